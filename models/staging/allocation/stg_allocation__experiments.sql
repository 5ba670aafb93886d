-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_allocation__experiments') }}
),

valid_rows as (
    select
        experiment_key,
        experiment_description,
        experiment_owner,
        started_at,
        ended_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
