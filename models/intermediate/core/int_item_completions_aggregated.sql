{#
    One row per learner × course item the learner completed, with the first completion time.

    A learner state table (docs block `learner_state`, macros/learner_state.sql): an incremental
    run reads the events received since the state's settled boundary, adds them to each
    recomputed key's settled aggregates, and replaces the rows of the learner × item keys with a
    delivery there; a key left with no completion loses its row (a key-only row, strategy
    replace_keys). The first run and a full refresh aggregate every event. Exact:
    pytests/test_incremental.py compares every run with a full refresh.
    The item -> course mapping (course, graded) is part of every row, so the state records the
    mapping it was built with (course_items_digest, the same on every row): a run that finds the
    catalogue's mapping changed (an item moved, regraded, added or withdrawn; a catalogue edit,
    rare next to daily runs) recomputes every learner, as a full refresh would.
#}
-- the staged events (stg_player__events' rows) are read from their base table, in one read with the
-- window's other deliveries; this dependency keeps the staged view, and the reconciliation of
-- raw.events that tests the pair, in every selection built on this table
-- depends_on: {{ ref('stg_player__events') }}
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'item_id'],
        incremental_strategy='replace_keys',
        key_only_when_null='n_completions',
        on_schema_change='fail',
        indexes=[{'columns': ['last_received_at']}],
        post_hook=["{{ unique_index(['learner_id', 'item_id']) }}"],
    )
}}

{%- set aggregates = [
    {'name': 'first_completed_at', 'agg': 'min', 'of': 'delivery.occurred_at'},
    {'name': 'n_completions', 'agg': 'count'},
    {'name': 'last_received_at', 'agg': 'max', 'of': 'delivery.received_at'},
] %}

with

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

mapping as (
    select {{ course_items_digest('items') }} as course_items_digest
    from items
),

-- boundary, reading, the completions read (read_events) and on incremental runs the recomputed
-- keys: state_rows, each learner × item's aggregates and settled aggregates
{{ learner_state_rows(
    keys={'learner_id': 'delivery.learner_id', 'item_id': 'delivery.item_id'},
    aggregates=aggregates,
    marker='n_completions',
    joins='inner join items on delivery.item_id = items.item_id',
    qualifies="delivery.event_type = 'item_complete'",
    parameters={'course_items_digest': '(select mapping.course_items_digest from mapping)'},
) }},

final as (
    -- the item's course and graded flag from the mapping the row was built with
    select
        state_rows.learner_id,
        state_rows.item_id,
        items.course_id,
        items.is_graded,
        state_rows.first_completed_at,
        state_rows.n_completions,
        state_rows.last_received_at,
        mapping.course_items_digest,
        state_rows.settled_first_completed_at,
        state_rows.settled_n_completions,
        state_rows.settled_last_received_at,
        state_rows.settled_lookback_days
    from state_rows
    left join items on state_rows.item_id = items.item_id
    cross join mapping
)

select * from final
