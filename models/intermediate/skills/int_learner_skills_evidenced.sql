-- One row per learner × skill with enough evidence (var skill_min_evidence_items graded items) for a
-- benchmark, with the skill's name and the learner's occupation (the peer group); deleted learners
-- excluded. learner_skill_benchmarks ranks these rows.
with

proficiencies as (
    select * from {{ ref('int_learner_skill_proficiencies') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

skills as (
    select * from {{ ref('skills') }}
),

final as (
    select
        proficiencies.learner_id,
        proficiencies.skill_id,
        skills.skill_name,
        proficiencies.proficiency,
        proficiencies.n_evidence_items,
        learners.occupation
    from proficiencies
    inner join learners on proficiencies.learner_id = learners.learner_id
    inner join skills on proficiencies.skill_id = skills.skill_id
    where
        not learners.is_deleted
        and proficiencies.n_evidence_items >= {{ var('skill_min_evidence_items', 3) }}
)

select * from final
