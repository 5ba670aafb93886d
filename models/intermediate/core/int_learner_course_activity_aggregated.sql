-- One row per learner × course with any event about the course (directly or through one of its
-- items): first and last activity and event counts by type.
with

events as (
    select * from {{ ref('stg_player__events') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

events_with_course as (
    select
        events.learner_id,
        coalesce(events.course_id, items.course_id) as course_id,
        events.event_type,
        events.occurred_at,
        events.event_type = 'course_view' and events.course_id is not null as is_course_view
    from events
    left join items on events.item_id = items.item_id
),

aggregated as (
    select
        learner_id,
        course_id,
        min(occurred_at) as first_activity_at,
        max(occurred_at) as last_activity_at,
        count(*) as n_events,
        count(*) filter (where event_type = 'course_view') as n_course_views,
        count(*) filter (where event_type = 'item_complete') as n_item_completes,
        min(occurred_at) filter (where is_course_view) as first_viewed_at
    from events_with_course
    where course_id is not null
    group by learner_id, course_id
)

select * from aggregated
