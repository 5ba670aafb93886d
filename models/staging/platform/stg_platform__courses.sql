-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_platform__courses') }}
),

renamed as (
    select
        course_id,
        slug,
        title,
        domain,
        difficulty,
        launched_at,
        retired_at,
        is_retired
    from source
    where quarantine_reason is null
)

select * from renamed
