-- One row per active goal (set by the build's as_of and not withdrawn by then) of a learner who has
-- not invoked deletion, with the days from the build's date to its target date. goal_text is the
-- learner's own words (may hold PII): a view, so that no intermediate table keeps another copy of
-- it (learner_goals, the learner's own mart, publishes it).
{{ config(materialized='view') }}

with

goals as (
    select * from {{ ref('stg_coach__learner_goals') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

active as (
    select
        goals.goal_id,
        goals.learner_id,
        goals.course_id,
        goals.goal_type,
        goals.goal_text,
        goals.target_date,
        goals.created_at,
        goals.target_date - {{ as_of_date() }} as days_to_target
    from goals
    inner join learners on goals.learner_id = learners.learner_id
    where
        not learners.is_deleted
        and goals.created_at <= {{ as_of() }}
        and (goals.withdrawn_at is null or goals.withdrawn_at > {{ as_of() }})
)

select * from active
