-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_allocation__experiment_variants') }}
),

renamed as (
    select
        experiment_key,
        variant_key,
        is_control,
        planned_weight
    from source
    where quarantine_reason is null
)

select * from renamed
