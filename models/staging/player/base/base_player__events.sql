{#
    Every raw event delivery, cast and renamed, with the reason it is quarantined (null = valid).

    Deliveries of one event_id are numbered 1, 2, ... in a total order (received_at first); every
    copy after the first is a duplicate_delivery: an event is an immutable fact, its first delivery
    decides. Incremental on received_at: a run re-reads the deliveries received in the last
    `events_lookback_days` before the watermark (late arrivals) and writes only the rows that are
    new or changed (a copy received earlier than one already stored renumbers both), so a daily run
    touches about a day of rows, not the whole window. The watermark ignores deliveries stamped
    later than as_of allows (received_in_future): they stay in the window, re-checked on every run
    until as_of catches up with them, and never stall the feed. Deliveries without a plausible
    receipt time (none, or before the platform's launch) are re-read on every run wherever they
    fall, and numbered after the plausible ones.
    The numbering continues the stored copies received before the window:
    - an event_id with copies stored in the window: those before the window are numbered
      1..p and the window's from p + 1, so p = min(stored window delivery_number) - 1, with no
      look-up in the history;
    - an event_id new to the window (most of them): its copies before the window are counted
      through the unique index on (event_id, delivery_number), which finds nothing for a new
      event without reading the table, and the earlier copy of a redelivery that lands days
      after the original.
    An incremental run therefore gives exactly the rows a full refresh gives
    (pytests/test_incremental.py). A delivery without event_id is numbered 1 (it is quarantined
    as missing_key whatever its number).
#}
{#-
    The received_at index serves the watermark, and the learner state tables'
    (int_learner_activity_aggregated, ...) read of the window.
    The post-hooks enforce the stg_ view's key where it is written (macros/unique_index.sql) and
    vacuum the table: its visibility map then lets the daily reconciliation (reconcile_raw_events)
    count the stored and the staged rows from the quarantine_reason index instead of the table;
    after a daily run the vacuum visits only the pages the run wrote.
#}
{{
    config(
        materialized='incremental',
        unique_key=['event_id', 'delivery_number'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['received_at']},
            {'columns': ['event_id', 'delivery_number'], 'unique': True},
            {'columns': ['quarantine_reason']},
        ],
        post_hook=[
            "{{ unique_index(['event_id'], where='quarantine_reason is null') }}",
            {'sql': 'vacuum {{ this }}', 'transaction': false},
        ],
    )
}}

{#- the copies stored before the window continue the numbering (incremental runs) #}
{%- set plus_earlier = ' + coalesce(earlier_deliveries.n_earlier, 0)' if is_incremental() else '' %}
{%- set columns = [
    'event_id', 'delivery_number', 'learner_id', 'event_type', 'course_id', 'item_id',
    'occurred_at', 'received_at', 'properties', 'quarantine_reason',
] %}

with

{% if is_incremental() %}
watermark as (
    -- an empty table (first run after a truncate) re-reads everything; a delivery stamped later
    -- than as_of allows (received_in_future) never moves the watermark, and stays in the window
    -- until as_of catches up with it
    select
        coalesce(
            max(received_at) - interval '{{ var("events_lookback_days") }} days',
            cast('-infinity' as timestamptz)
        ) as window_start
    from {{ this }}
    where received_at <= {{ latest_plausible_at() }}
),
{% endif %}

source as (
    select * from {{ source('player', 'events') }}
    {% if is_incremental() %}
    where
        received_at >= (select watermark.window_start from watermark)
        -- a delivery without a plausible receipt time is read again on every run, wherever it falls
        or received_at < {{ earliest_plausible_at() }}
        or received_at is null
    {% endif %}
),

{% if is_incremental() %}
stored_window as (
    -- what earlier runs stored for the window, read by one sequential scan: the full refresh
    -- writes the rows in the numbering's event_id order, so the received_at index would visit the
    -- window's pages at random (a bitmap read of a 3-day window touches most of the table's
    -- pages). The expression keeps the planner off that index; sorting the full refresh by
    -- received_at instead would make every full refresh much slower.
    select {{ columns | join(', ') }}
    from {{ this }}
    where
        received_at + interval '0 seconds' >= (select watermark.window_start from watermark)
        or received_at < {{ earliest_plausible_at() }}
        or received_at is null
),

numbered_in_window as (
    -- p for the event ids with a copy stored in the window
    select
        event_id,
        min(delivery_number) - 1 as n_earlier
    from stored_window
    where event_id is not null
    group by event_id
),

new_event_ids as (
    select distinct source.event_id
    from source
    left join numbered_in_window on source.event_id = numbered_in_window.event_id
    where source.event_id is not null and numbered_in_window.event_id is null
),

numbered_before_window as (
    -- p for the event ids new to the window: copies stored before it, one index look-up per id
    -- (lateral: a join could instead scan the whole history)
    select
        new_event_ids.event_id,
        history.n_earlier
    from new_event_ids
    cross join
        lateral (
            select count(*) as n_earlier
            from {{ this }} as stored_rows
            where stored_rows.event_id = new_event_ids.event_id
        ) as history
    where history.n_earlier > 0
),

earlier_deliveries as (
    select * from numbered_in_window
    union all
    select * from numbered_before_window
),
{% endif %}

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

renamed as (
    select
        source.event_id,
        source.learner_id,
        lower(source.event_type) as event_type,
        source.course_id,
        source.item_id,
        source.occurred_at,
        source.received_at,
        source.properties,
        learners.learner_id is null as is_orphan_learner,
        learners.signed_up_at as learner_signed_up_at,
        case
            when source.event_id is null then 1
            else row_number()
                over (
                    partition by source.event_id
                    -- every column, so the order is total and two builds number copies alike.
                    -- The sort compares a later key only for deliveries of one event that tie on
                    -- every earlier one (copies received at the same instant), so the order costs
                    -- what (event_id, received_at) costs; a hash of the row would be computed for
                    -- every delivery. A receipt time before the platform's launch (or none) is
                    -- never the first delivery.
                    order by
                        case when source.received_at >= {{ earliest_plausible_at() }} then 0 else 1 end,
                        source.received_at, source.occurred_at, source.learner_id, source.event_type,
                        source.course_id, source.item_id, source.properties
                )
            {{ plus_earlier }}
        end as delivery_number
    from source
    left join learners on source.learner_id = learners.learner_id
    {% if is_incremental() %}
    left join earlier_deliveries on source.event_id = earlier_deliveries.event_id
    {% endif %}
),

checked as (
    select
        event_id,
        delivery_number,
        learner_id,
        event_type,
        course_id,
        item_id,
        occurred_at,
        received_at,
        properties,
        case
            when event_id is null then 'missing_key'
            when delivery_number > 1 then 'duplicate_delivery'
            when learner_id is null or occurred_at is null or received_at is null then 'missing_value'
            when is_orphan_learner then 'orphan_learner'
            when
                event_type not in ({{ "'" ~ var('accepted_event_types') | join("', '") ~ "'" }})
                then 'unknown_event_type'
            when occurred_at > received_at + interval '{{ var("future_tolerance_hours") }} hours'
                then 'occurred_in_future'
            {{ implausible_timestamps(['occurred_at', 'received_at'], future_reason='received_in_future') }}
            {{ before_signup('occurred_at', signed_up_at='learner_signed_up_at') }}
        end as quarantine_reason
    from renamed
),

{% if is_incremental() %}
changed as (
    -- the window's rows that are not stored as they are: new deliveries and renumbered copies
    -- (delete+insert then replaces the stored rows with the same key); EXCEPT ALL compares
    -- whole rows, nulls included, and keeps repeated rows
    select {{ columns | join(', ') }} from checked
    except all
    select {{ columns | join(', ') }} from stored_window
),

final as (
    select * from changed
)
{% else %}
final as (
    select * from checked
)
{% endif %}

select * from final
