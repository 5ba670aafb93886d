-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_allocation__experiments') }}
),

renamed as (
    select
        experiment_key,
        experiment_description,
        experiment_owner,
        started_at,
        ended_at
    from source
    where quarantine_reason is null
)

select * from renamed
