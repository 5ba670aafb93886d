-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_platform__enrollments') }}
),

renamed as (
    select
        enrollment_id,
        learner_id,
        course_id,
        enrolled_at,
        unenrolled_at,
        enrollment_source
    from source
    where quarantine_reason is null
)

select * from renamed
