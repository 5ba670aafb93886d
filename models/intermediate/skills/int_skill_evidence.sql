-- One row per learner × skill × graded item the learner submitted: the learner's best valid score
-- on the item and the weight of the skill in the item's course (stg_platform__course_skills).
-- Deleted learners are dropped.

with

submissions as (
    select * from {{ ref('stg_assessment__submissions') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

course_skills as (
    select * from {{ ref('stg_platform__course_skills') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

best_scores as (
    select
        submissions.learner_id,
        submissions.item_id,
        items.course_id,
        max(submissions.score) as best_score,
        count(*) as n_attempts
    from submissions
    inner join items on submissions.item_id = items.item_id
    inner join learners on submissions.learner_id = learners.learner_id
    where items.is_graded and not learners.is_deleted
    group by submissions.learner_id, submissions.item_id, items.course_id
),

final as (
    select
        best_scores.learner_id,
        course_skills.skill_id,
        best_scores.item_id,
        best_scores.course_id,
        best_scores.best_score,
        best_scores.n_attempts,
        course_skills.weight
    from best_scores
    inner join course_skills on best_scores.course_id = course_skills.course_id
)

select * from final
