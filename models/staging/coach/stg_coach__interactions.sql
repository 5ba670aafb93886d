-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_coach__interactions') }}
),

valid_rows as (
    select
        message_id,
        interaction,
        occurred_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
