{#
    One row per learner with any valid event: first and last activity, and the receipt of the
    newest event aggregated.

    A learner state table (docs block `learner_state`): an incremental run recomputes, from all
    their staged events, only the learners with a delivery received since the state's watermark
    minus events_lookback_days (macros/learner_state.sql), and replaces their rows; a learner left
    with no valid event loses the row (a key-only row, strategy replace_keys). The first run and
    a full refresh aggregate every learner. Exact: pytests/test_incremental.py compares every run
    with a full refresh.
#}
-- depends_on: {{ ref('base_player__events') }}
{{
    config(
        materialized='incremental',
        unique_key='learner_id',
        incremental_strategy='replace_keys',
        key_only_when_null='n_events',
        on_schema_change='fail',
        indexes=[{'columns': ['last_received_at']}],
        post_hook=["{{ unique_index(['learner_id']) }}"],
    )
}}

with

{% if is_incremental() %}
recomputed_learners as (
    {{ learners_with_new_events() }}
),
{% endif %}

events as (
    select events.*
    from {{ ref('stg_player__events') }} as events
    {% if is_incremental() %}
    inner join recomputed_learners on events.learner_id = recomputed_learners.learner_id
    {% endif %}
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
),

{% if is_incremental() %}
key_only as (
    -- recomputed learners without a valid event: their stored row goes
    select
        recomputed_learners.learner_id,
        cast(null as timestamptz) as first_active_at,
        cast(null as timestamptz) as last_active_at,
        cast(null as bigint) as n_events,
        cast(null as timestamptz) as last_received_at
    from recomputed_learners
    where not exists (
        select 1 from aggregated
        where aggregated.learner_id = recomputed_learners.learner_id
    )
),
{% endif %}

final as (
    select * from aggregated
    {% if is_incremental() %}
    union all
    select * from key_only
    {% endif %}
)

select * from final
