-- One row per learner × course with any event about the course (directly or through one of its
-- items): first and last activity and event counts by type.
-- Incremental per learner (macros/incremental_learners.sql): a daily run recomputes only the
-- learners with new deliveries, all their courses.
{{
    config(
        materialized='incremental',
        unique_key='learner_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['learner_id']}],
    )
}}

with

events as (
    select * from {{ ref('stg_player__events') }}
    where {{ events_learner_filter() }}
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
        events.received_at,
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
        min(occurred_at) filter (where is_course_view) as first_viewed_at,
        max(occurred_at) filter (where is_course_view) as last_viewed_at,
        max(received_at) as last_received_at
    from events_with_course
    where course_id is not null
    group by learner_id, course_id
)

select * from aggregated
