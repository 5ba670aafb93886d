{#
    One row per learner × course with any event about the course (directly or through one of its
    items): first and last activity, event counts by type, and the receipt of the newest event
    aggregated.

    A learner state table (docs block `learner_state`, macros/learner_state.sql): an incremental
    run reads the events received since the state's settled boundary, adds them to each
    recomputed key's settled aggregates, and replaces the rows of the learner × course keys with
    a delivery there; a key left with no event loses its row (a key-only row, strategy
    replace_keys). The first run and a full refresh aggregate every event. Exact:
    pytests/test_incremental.py compares every run with a full refresh.
    An item event counts for the item's course, so the state records the item -> course mapping
    it was built with (course_items_digest, the same on every row): a run that finds the
    catalogue's mapping changed (an item moved, added or withdrawn; a catalogue edit, rare next to
    daily runs) recomputes every learner, as a full refresh would.
#}
-- the staged events (stg_player__events' rows) are read from their base table, in one read with the
-- window's other deliveries; this dependency keeps the staged view, and the reconciliation of
-- raw.events that tests the pair, in every selection built on this table
-- depends_on: {{ ref('stg_player__events') }}
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'course_id'],
        incremental_strategy='replace_keys',
        key_only_when_null='n_events',
        on_schema_change='fail',
        indexes=[{'columns': ['last_received_at']}],
        post_hook=["{{ unique_index(['learner_id', 'course_id']) }}"],
    )
}}

{%- set aggregates = [
    {'name': 'first_activity_at', 'agg': 'min', 'of': 'delivery.occurred_at'},
    {'name': 'last_activity_at', 'agg': 'max', 'of': 'delivery.occurred_at'},
    {'name': 'n_events', 'agg': 'count'},
    {'name': 'n_course_views', 'agg': 'count', 'where': "delivery.event_type = 'course_view'"},
    {'name': 'n_item_completes', 'agg': 'count', 'where': "delivery.event_type = 'item_complete'"},
    {'name': 'first_viewed_at', 'agg': 'min', 'of': 'delivery.occurred_at',
     'where': "delivery.event_type = 'course_view' and delivery.course_id is not null"},
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

-- boundary, reading, the events read (read_events) and on incremental runs the recomputed keys:
-- state_rows, each learner × course's aggregates and settled aggregates
{{ learner_state_rows(
    keys={'learner_id': 'delivery.learner_id', 'course_id': 'coalesce(delivery.course_id, items.course_id)'},
    aggregates=aggregates,
    marker='n_events',
    joins='left join items on delivery.item_id = items.item_id',
    parameters={'course_items_digest': '(select mapping.course_items_digest from mapping)'},
) }},

final as (
    select
        state_rows.learner_id,
        state_rows.course_id,
        state_rows.first_activity_at,
        state_rows.last_activity_at,
        state_rows.n_events,
        state_rows.n_course_views,
        state_rows.n_item_completes,
        state_rows.first_viewed_at,
        state_rows.last_received_at,
        mapping.course_items_digest,
        state_rows.settled_first_activity_at,
        state_rows.settled_last_activity_at,
        state_rows.settled_n_events,
        state_rows.settled_n_course_views,
        state_rows.settled_n_item_completes,
        state_rows.settled_first_viewed_at,
        state_rows.settled_last_received_at,
        state_rows.settled_lookback_days
    from state_rows
    cross join mapping
)

select * from final
