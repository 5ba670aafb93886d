{#
    Every raw event delivery, cast and renamed, with the reason it is quarantined (null = valid).

    Incremental on received_at: a run re-reads the deliveries received in the last
    `events_lookback_days` before the watermark. A delivery's number counts the copies of its
    event_id already stored before that window, so a redelivery that lands days after the
    original is still recognised as a duplicate, and an incremental run produces exactly the rows
    a full refresh would (pytests/test_incremental.py proves it).
#}
{{
    config(
        materialized='incremental',
        unique_key=['event_id', 'delivery_number'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['received_at']},
            {'columns': ['event_id']},
            {'columns': ['learner_id', 'occurred_at']},
        ],
    )
}}

with

{% if is_incremental() %}
watermark as (
    -- an empty table (first run after a truncate) re-reads everything
    select
        coalesce(
            max(received_at) - interval '{{ var("events_lookback_days") }} days',
            cast('-infinity' as timestamptz)
        ) as window_start
    from {{ this }}
),
{% endif %}

source as (
    select * from {{ source('player', 'events') }}
    {% if is_incremental() %}
    where received_at >= (select watermark.window_start from watermark)
    {% endif %}
),

{% if is_incremental() %}
earlier_deliveries as (
    -- copies of the window's event ids stored by earlier runs, before the window
    select
        stored_rows.event_id,
        count(*) as n_earlier
    from {{ this }} as stored_rows
    where
        stored_rows.event_id in (select source.event_id from source)
        and stored_rows.received_at < (select watermark.window_start from watermark)
    group by stored_rows.event_id
),
{% endif %}

learners as (
    select
        learner_id,
        min(signed_up_at) as signed_up_at
    from {{ source('platform', 'learners') }}
    group by learner_id
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
        row_number()
            over (
                partition by source.event_id
                -- every column, so the order is total and two builds number copies alike; plain
                -- columns, not a hash of the row (hashing every row cost half the model's time)
                order by
                    source.received_at, source.occurred_at, source.learner_id, source.event_type,
                    source.course_id, source.item_id, source.properties
            )
        {% if is_incremental() %} + coalesce(earlier_deliveries.n_earlier, 0){% endif %}
            as delivery_number
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
            when occurred_at < learner_signed_up_at - interval '{{ var("future_tolerance_hours") }} hours'
                then 'occurred_before_signup'
        end as quarantine_reason
    from renamed
)

select * from checked
