-- Segment new_enrollee: enrolled in the last 3 days (before the build's as_of) with no item of the
-- course completed. One row per learner x course.
with

enrollments as (
    select * from {{ ref('int_coaching_enrollments_eligible') }}
),

segment as (
    select
        learner_id,
        course_id,
        'enrolled ' || to_char(enrolled_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC, nothing completed yet'
            as reason_detail
    from enrollments
    where
        enrolled_at > {{ as_of() }} - interval '3 days'
        and items_completed = 0
)

select * from segment
