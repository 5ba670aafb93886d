-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_coach__learner_goals') }}
),

valid_rows as (
    select
        goal_id,
        learner_id,
        course_id,
        goal_type,
        goal_text,
        target_date,
        created_at,
        withdrawn_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
