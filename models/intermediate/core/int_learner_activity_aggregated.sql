{#
    One row per learner with any valid event: first and last activity, and the receipt of the
    newest event aggregated.

    A learner state table (docs block `learner_state`, macros/learner_state.sql): an incremental
    run reads the events received since the state's settled boundary, adds them to each
    recomputed learner's settled aggregates, and replaces the rows of the learners with a delivery
    there; a learner left with no valid event loses the row (a key-only row, strategy
    replace_keys). The first run and a full refresh aggregate every event. Exact:
    pytests/test_incremental.py compares every run with a full refresh.
#}
-- the staged events (stg_player__events' rows) are read from their base table, in one read with the
-- window's other deliveries; this dependency keeps the staged view, and the reconciliation of
-- raw.events that tests the pair, in every selection built on this table
-- depends_on: {{ ref('stg_player__events') }}
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

{%- set aggregates = [
    {'name': 'first_active_at', 'agg': 'min', 'of': 'delivery.occurred_at'},
    {'name': 'last_active_at', 'agg': 'max', 'of': 'delivery.occurred_at'},
    {'name': 'n_events', 'agg': 'count'},
    {'name': 'last_received_at', 'agg': 'max', 'of': 'delivery.received_at'},
] %}

with

-- boundary, reading, the events read (read_events) and on incremental runs the recomputed keys:
-- state_rows, each learner's aggregates and settled aggregates
{{ learner_state_rows(
    keys={'learner_id': 'delivery.learner_id'},
    aggregates=aggregates,
    marker='n_events',
) }},

final as (
    select
        learner_id,
        first_active_at,
        last_active_at,
        n_events,
        last_received_at,
        settled_first_active_at,
        settled_last_active_at,
        settled_n_events,
        settled_last_received_at,
        settled_lookback_days
    from state_rows
)

select * from final
