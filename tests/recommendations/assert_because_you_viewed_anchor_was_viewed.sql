-- because_you_viewed rows name their anchor (reason_course_id), a course the learner viewed, and
-- never recommend the anchor itself. Fails on each violating row.
with

recommendations as (
    select * from {{ ref('course_recommendations') }}
),

course_activity as (
    -- events aggregated per learner × course once (core): first_viewed_at is the learner's first
    -- course_view of the course (re-reading every event costs a scan of the largest table)
    select * from {{ ref('int_learner_course_activity_aggregated') }}
),

views as (
    select
        learner_id,
        course_id
    from course_activity
    where first_viewed_at is not null
)

select recommendations.*
from recommendations
left join views
    on
        recommendations.learner_id = views.learner_id
        and recommendations.reason_course_id = views.course_id
where
    recommendations.module = 'because_you_viewed'
    and (
        recommendations.reason_course_id is null
        or views.course_id is null
        or recommendations.reason_course_id = recommendations.course_id
    )
