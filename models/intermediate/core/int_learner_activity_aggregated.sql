-- One row per learner with any valid event: first and last activity.
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

aggregated as (
    select
        learner_id,
        min(occurred_at) as first_active_at,
        max(occurred_at) as last_active_at,
        count(*) as n_events,
        max(received_at) as last_received_at
    from events
    group by learner_id
)

select * from aggregated
