-- One row per active goal (set by the build's as_of and not withdrawn by then) of a learner who
-- has not invoked deletion. goal_text is the learner's own words (may hold PII): this is the only
-- mart allowed to carry it, for the learner's own surface. Computed in int_coaching_goals_active,
-- which the goal_due segment also reads. The contract fixes the columns.
with

goals as (
    select * from {{ ref('int_coaching_goals_active') }}
)

select * from goals
