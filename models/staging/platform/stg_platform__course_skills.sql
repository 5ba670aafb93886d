-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_platform__course_skills') }}
),

valid_rows as (
    select
        course_id,
        skill_id,
        weight
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
