-- One row per learner x course that coaching may message about: the learner is not deleted, the
-- latest enrolment is current (not withdrawn) and the course is not finished (some item left).
-- Every segment reads it, and the segment union joins it again, so a new segment cannot target
-- a deleted, unenrolled or finished learner by mistake.
with

progress as (
    select * from {{ ref('fct_course_progress') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

eligible as (
    select
        progress.learner_id,
        progress.course_id,
        progress.enrolled_at,
        progress.items_completed,
        progress.items_total,
        progress.pct_complete,
        progress.last_activity_at
    from progress
    inner join learners on progress.learner_id = learners.learner_id
    where
        not learners.is_deleted
        and progress.is_enrolled
        and progress.completed_at is null
        and progress.items_completed < progress.items_total
        and progress.enrolled_at <= {{ as_of() }}
)

select * from eligible
