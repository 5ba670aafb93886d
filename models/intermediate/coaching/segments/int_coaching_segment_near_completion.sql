-- Segment near_completion: 80% or more of the course's items done, not yet finished.
-- One row per learner x course.
with

enrollments as (
    select * from {{ ref('int_coaching_enrollments_eligible') }}
),

segment as (
    select
        learner_id,
        course_id,
        items_completed || ' of ' || items_total || ' items done' as reason_detail
    from enrollments
    where pct_complete >= 0.8
)

select * from segment
