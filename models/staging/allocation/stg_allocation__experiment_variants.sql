-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_allocation__experiment_variants') }}
),

valid_rows as (
    select
        experiment_key,
        variant_key,
        is_control,
        planned_weight
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
