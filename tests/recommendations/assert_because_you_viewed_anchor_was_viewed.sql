-- because_you_viewed rows name their anchor (reason_course_id), a course the learner viewed, and
-- never recommend the anchor itself. Fails on each violating row.
with

recommendations as (
    select * from {{ ref('course_recommendations') }}
),

events as (
    select * from {{ ref('stg_player__events') }}
),

views as (
    select distinct
        learner_id,
        course_id
    from events
    where event_type = 'course_view' and course_id is not null
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
