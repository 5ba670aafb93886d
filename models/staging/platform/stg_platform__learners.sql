-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_platform__learners') }}
),

renamed as (
    select
        learner_id,
        country_code,
        occupation,
        signed_up_at,
        updated_at,
        is_deleted
    from source
    where quarantine_reason is null
)

select * from renamed
