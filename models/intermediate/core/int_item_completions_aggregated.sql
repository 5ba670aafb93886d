{#
    One row per learner × course item the learner completed, with the first completion time.

    A learner state table (docs block `learner_state`): an incremental run recomputes, from all
    their staged events, only the learner × item keys with a delivery received since the state's
    watermark minus events_lookback_days (macros/learner_state.sql), and replaces their rows; a
    key left with no completion loses its row (a key-only row, strategy replace_keys). The first
    run and a full refresh aggregate every learner. Exact: pytests/test_incremental.py compares
    every run with a full refresh.
    The item -> course mapping (course, graded) is part of every row, so the state records the
    mapping it was built with (course_items_digest, the same on every row): a run that finds the
    catalogue's mapping changed (an item moved, regraded, added or withdrawn; a catalogue edit,
    rare next to daily runs) recomputes every learner, as a full refresh would.
#}
-- depends_on: {{ ref('base_player__events') }}
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

with

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

-- mapping, recomputed_keys (incremental runs) and the events to aggregate
{{ learner_state_mapped_events('items', 'item_id') }},

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
),

{% if is_incremental() %}
key_only as (
    -- recomputed keys without a completion: their stored row goes
    select
        recomputed_keys.learner_id,
        recomputed_keys.key_id as item_id,
        cast(null as bigint) as course_id,
        cast(null as boolean) as is_graded,
        cast(null as timestamptz) as first_completed_at,
        cast(null as bigint) as n_completions,
        cast(null as timestamptz) as last_received_at
    from recomputed_keys
    where not exists (
        select 1 from completions
        where
            completions.learner_id = recomputed_keys.learner_id
            and completions.item_id = recomputed_keys.key_id
    )
),
{% endif %}

final as (
    select
        completions.*,
        mapping.course_items_digest
    from completions
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
