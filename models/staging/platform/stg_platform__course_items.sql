-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_platform__course_items') }}
),

renamed as (
    select
        item_id,
        course_id,
        module_index,
        item_index,
        item_type,
        is_graded,
        estimated_minutes
    from source
    where quarantine_reason is null
)

select * from renamed
