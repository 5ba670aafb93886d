-- One row per learner with any valid event: first and last activity.
with

events as (
    select * from {{ ref('stg_player__events') }}
),

aggregated as (
    select
        learner_id,
        min(occurred_at) as first_active_at,
        max(occurred_at) as last_active_at,
        count(*) as n_events
    from events
    group by learner_id
)

select * from aggregated
