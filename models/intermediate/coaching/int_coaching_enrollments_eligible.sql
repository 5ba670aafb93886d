-- One row per learner x course that coaching may message about: the learner is not deleted and not
-- in the coaching holdout, the latest enrolment is current (not withdrawn) and the course is not
-- finished (some item left). Every segment reads it, and the segment union joins it again, so a
-- new segment cannot target a deleted, unenrolled, finished or holdout learner by mistake.
with

progress as (
    -- course progress of learners who have not invoked deletion
    select * from {{ ref('int_course_progress') }}
),

holdout as (
    select * from {{ ref('int_coaching_holdout') }}
),

eligible as (
    select
        learner_id,
        course_id,
        enrolled_at,
        items_completed,
        items_total,
        pct_complete,
        last_activity_at
    from progress
    where
        not exists (
            select 1 from holdout
            where holdout.learner_id = progress.learner_id
        )
        and is_enrolled
        and completed_at is null
        and items_completed < items_total
        and enrolled_at <= {{ as_of() }}
)

select * from eligible
