-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_allocation__experiment_assignments') }}
),

valid_rows as (
    select
        experiment_key,
        variant_key,
        learner_id,
        assigned_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
