-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_platform__learners') }}
),

valid_rows as (
    select
        learner_id,
        country_code,
        occupation,
        signed_up_at,
        updated_at,
        is_deleted
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
