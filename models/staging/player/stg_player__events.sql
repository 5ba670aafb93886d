-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_player__events') }}
),

renamed as (
    select
        event_id,
        learner_id,
        event_type,
        course_id,
        item_id,
        occurred_at,
        received_at,
        properties
    from source
    where quarantine_reason is null
)

select * from renamed
