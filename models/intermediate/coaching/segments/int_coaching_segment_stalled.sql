-- Segment stalled: enrolled, not complete, and no activity on the course for 7 days or more
-- (activity since the latest enrolment: an enrolment without any event counts from enrolled_at).
-- One row per learner x course.
with

enrollments as (
    select * from {{ ref('int_coaching_enrollments_eligible') }}
),

last_touch as (
    select
        learner_id,
        course_id,
        greatest(enrolled_at, last_activity_at) as last_touch_at
    from enrollments
),

segment as (
    select
        learner_id,
        course_id,
        'no activity for '
        || cast(extract(day from {{ as_of() }} - last_touch_at) as integer)
        || ' days' as reason_detail
    from last_touch
    where last_touch_at <= {{ as_of() }} - interval '7 days'
)

select * from segment
