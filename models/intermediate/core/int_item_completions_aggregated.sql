-- One row per learner × course item the learner completed, with the first completion time.
-- Incremental per learner (macros/incremental_learners.sql): a daily run recomputes only the
-- learners with new deliveries.
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

completions as (
    select
        events.learner_id,
        events.item_id,
        items.course_id,
        items.is_graded,
        min(events.occurred_at) as first_completed_at,
        count(*) as n_completions,
        max(events.received_at) as last_received_at
    from events
    inner join items on events.item_id = items.item_id
    where events.event_type = 'item_complete'
    group by events.learner_id, events.item_id, items.course_id, items.is_graded
)

select * from completions
