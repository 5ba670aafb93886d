-- One row per learner × skill with any graded evidence: proficiency is the skill-weighted mean of
-- the learner's best score per graded item, sum(weight × best_score) / sum(weight), where weight
-- is the skill's weight in the item's course; n_evidence_items counts the distinct graded items.

with

evidence as (
    select * from {{ ref('int_skill_evidence') }}
),

final as (
    select
        learner_id,
        skill_id,
        cast(sum(weight * best_score) / sum(weight) as double precision) as proficiency,
        cast(count(distinct item_id) as integer) as n_evidence_items
    from evidence
    group by learner_id, skill_id
)

select * from final
