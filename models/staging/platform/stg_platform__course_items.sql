-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_platform__course_items') }}
),

valid_rows as (
    select
        item_id,
        course_id,
        module_index,
        item_index,
        item_type,
        is_graded,
        estimated_minutes
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
