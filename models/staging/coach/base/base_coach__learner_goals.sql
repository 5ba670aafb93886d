-- Every raw goal row with the reason it is quarantined (null = valid). goal_text (free text,
-- may hold PII) is kept: the goal mart shows it to the learner who wrote it, and nothing else.
-- A goal delivered twice: the latest state wins (a withdrawn copy over an active one, then the later
-- withdrawal and creation), ties broken by the other columns.
with

source as (
    select * from {{ source('coach', 'learner_goals') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

renamed as (
    select
        goal_id,
        learner_id,
        course_id,
        lower(goal_type) as goal_type,
        goal_text,
        target_date,
        created_at,
        withdrawn_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.goal_id is null then 'missing_key'
            when renamed.goal_id < 1 then 'out_of_range'
            when learners.learner_id is null then 'orphan_learner'
            when renamed.course_id is not null and courses.course_id is null then 'orphan_course'
            when
                renamed.goal_type is null
                or renamed.goal_type not in ('finish_course', 'weekly_hours', 'career', 'skill')
                then 'invalid_value'
            when renamed.created_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.created_at', 'renamed.withdrawn_at']) }}
            when renamed.withdrawn_at < renamed.created_at then 'inconsistent_timestamps'
            when
                renamed.target_date < cast(renamed.created_at at time zone 'UTC' as date)
                or renamed.target_date > {{ as_of_date() }} + {{ var('goal_horizon_days') }}
                then 'out_of_range'
            {{ before_signup('renamed.created_at') }}
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join courses on renamed.course_id = courses.course_id
),

ranked as (
    {{ ranked_copies('row_checked', ['goal_id'], [
        'withdrawn_at desc nulls last', 'created_at desc', 'learner_id asc', 'course_id asc',
        'goal_type asc', 'target_date asc', 'goal_text asc',
    ]) }}
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
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
