-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_allocation__experiment_assignments') }}
),

renamed as (
    select
        experiment_key,
        variant_key,
        learner_id,
        assigned_at
    from source
    where quarantine_reason is null
)

select * from renamed
