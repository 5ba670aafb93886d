-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_coach__interactions') }}
),

renamed as (
    select
        message_id,
        interaction,
        occurred_at
    from source
    where quarantine_reason is null
)

select * from renamed
