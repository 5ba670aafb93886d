{#
    One row per learner × course with any event about the course (directly or through one of its
    items): first and last activity, event counts by type, and the receipt of the newest event
    aggregated.

    A learner state table (docs block `learner_state`): an incremental run recomputes, from all
    their staged events, only the learner × course keys with a delivery received since the
    state's watermark minus events_lookback_days (macros/learner_state.sql), and replaces their
    rows; a key left with no event loses its row (a key-only row, strategy replace_keys). The
    first run and a full refresh aggregate every learner. Exact: pytests/test_incremental.py
    compares every run with a full refresh.
    An item event counts for the item's course, so the state records the item -> course mapping
    it was built with (course_items_digest, the same on every row): a run that finds the
    catalogue's mapping changed (an item moved, added or withdrawn; a catalogue edit, rare next to
    daily runs) recomputes every learner, as a full refresh would.
#}
-- depends_on: {{ ref('base_player__events') }}
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

with

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

-- mapping, recomputed_keys (incremental runs) and the events to aggregate, each with the
-- course it is about (key_id: its own, or its item's)
{{ learner_state_mapped_events('items', 'course_id') }},

events_with_course as (
    select
        events.learner_id,
        events.key_id as course_id,
        events.event_type,
        events.occurred_at,
        events.received_at,
        events.event_type = 'course_view' and events.course_id is not null as is_course_view
    from events
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
        max(received_at) as last_received_at
    from events_with_course
    where course_id is not null
    group by learner_id, course_id
),

{% if is_incremental() %}
key_only as (
    -- recomputed keys without an event: their stored row goes
    select
        recomputed_keys.learner_id,
        recomputed_keys.key_id as course_id,
        cast(null as timestamptz) as first_activity_at,
        cast(null as timestamptz) as last_activity_at,
        cast(null as bigint) as n_events,
        cast(null as bigint) as n_course_views,
        cast(null as bigint) as n_item_completes,
        cast(null as timestamptz) as first_viewed_at,
        cast(null as timestamptz) as last_received_at
    from recomputed_keys
    where not exists (
        select 1 from aggregated
        where
            aggregated.learner_id = recomputed_keys.learner_id
            and aggregated.course_id = recomputed_keys.key_id
    )
),
{% endif %}

final as (
    select
        aggregated.*,
        mapping.course_items_digest
    from aggregated
    cross join mapping
    {% if is_incremental() %}
    union all
    select
        key_only.*,
        cast(null as text) as course_items_digest
    from key_only
    {% endif %}
)

select * from final
