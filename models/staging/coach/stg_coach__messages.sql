-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_coach__messages') }}
),

valid_rows as (
    select
        message_id,
        learner_id,
        course_id,
        message_key,
        channel,
        sent_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
