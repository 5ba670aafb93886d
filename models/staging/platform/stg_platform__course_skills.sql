-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_platform__course_skills') }}
),

renamed as (
    select
        course_id,
        skill_id,
        weight
    from source
    where quarantine_reason is null
)

select * from renamed
