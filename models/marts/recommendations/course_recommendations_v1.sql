-- One row per learner × module × rank: the live recommendation lists (run `live` of
-- int_reco_lists, where every producer's candidates went through the shared contract). Only
-- learners of int_reco_learners (not deleted) reach int_reco_lists; the join restates it.
with

lists as (
    select * from {{ ref('int_reco_lists') }}
),

learners as (
    select * from {{ ref('int_reco_learners') }}
),

final as (
    select
        lists.learner_id,
        lists.module,
        lists.rank,
        lists.course_id,
        lists.score,
        lists.algorithm,
        lists.reason_course_id,
        lists.generated_at
    from lists
    inner join learners
        on
            lists.run_key = learners.run_key
            and lists.learner_id = learners.learner_id
    where lists.run_key = 'live'
)

-- stored in key order (publishing moves the table as it is): a service's lookup of one learner
-- reads the one or two pages that hold the learner's lists through the primary key's index
select * from final
order by learner_id, module, rank
