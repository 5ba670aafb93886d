-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_coach__learner_goals') }}
),

renamed as (
    select
        goal_id,
        learner_id,
        course_id,
        goal_type,
        goal_text,
        target_date,
        created_at,
        withdrawn_at
    from source
    where quarantine_reason is null
)

select * from renamed
