-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_platform__courses') }}
),

valid_rows as (
    select
        course_id,
        slug,
        title,
        domain,
        difficulty,
        launched_at,
        retired_at,
        is_retired
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
