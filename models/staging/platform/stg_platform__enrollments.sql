-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_platform__enrollments') }}
),

valid_rows as (
    select
        enrollment_id,
        learner_id,
        course_id,
        enrolled_at,
        unenrolled_at,
        enrollment_source
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
