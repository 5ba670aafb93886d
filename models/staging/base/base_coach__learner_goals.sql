-- Every raw goal row with the reason it is quarantined (null = valid). goal_text (free text,
-- may hold PII) is kept: the goal mart shows it to the learner who wrote it, and nothing else.
with

source as (
    select * from {{ source('coach', 'learner_goals') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

renamed as (
    select
        source.goal_id,
        source.learner_id,
        source.course_id,
        lower(source.goal_type) as goal_type,
        source.goal_text,
        source.target_date,
        source.created_at,
        source.withdrawn_at,
        known_learners.learner_id is null as is_orphan_learner,
        row_number() over (
            partition by source.goal_id order by row(source.*)
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
),

checked as (
    select
        goal_id,
        learner_id,
        course_id,
        goal_type,
        goal_text,
        target_date,
        created_at,
        withdrawn_at,
        case
            when goal_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when goal_type not in ('finish_course', 'weekly_hours', 'career', 'skill') then 'invalid_value'
            when created_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
)

select * from checked
