-- Segment struggling: two or more failed graded attempts (score below the pass score 0.8) on the
-- course's items in the 14 days before the build's as_of. One row per learner x course.
with

enrollments as (
    select * from {{ ref('int_coaching_enrollments_eligible') }}
),

submissions as (
    select * from {{ ref('stg_assessment__submissions') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

failed_attempts as (
    select
        submissions.learner_id,
        items.course_id,
        count(*) as n_failed
    from submissions
    inner join items on submissions.item_id = items.item_id
    where
        items.is_graded
        and submissions.score < 0.8
        and submissions.submitted_at > {{ as_of() }} - interval '14 days'
        and submissions.submitted_at <= {{ as_of() }}
    group by submissions.learner_id, items.course_id
),

segment as (
    select
        enrollments.learner_id,
        enrollments.course_id,
        failed_attempts.n_failed || ' failed graded attempts in the last 14 days' as reason_detail
    from enrollments
    inner join failed_attempts
        on
            enrollments.learner_id = failed_attempts.learner_id
            and enrollments.course_id = failed_attempts.course_id
    where failed_attempts.n_failed >= 2
)

select * from segment
