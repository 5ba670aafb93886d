-- One row per run × learner who can be recommended to: how many of a producer's best candidates
-- can reach the learner's list. int_reco_lists keeps the k best candidates that are neither
-- excluded for the learner (int_reco_exclusions) nor unrecommendable in the run
-- (int_reco_catalogue), so among the k + n_excluded + n_unrecommendable best, at least k remain:
-- a producer that emits only those (ordered like the lists: rounded score desc, course_id asc)
-- gives exactly the lists it would give emitting every scored course, with O(learners × k) rows
-- instead of O(learners × courses).

with

learners as (
    select * from {{ ref('int_reco_learners') }}
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
),

excluded as (
    select
        run_key,
        learner_id,
        count(*) as n_excluded
    from exclusions
    group by run_key, learner_id
),

unrecommendable as (
    select
        run_key,
        count(*) filter (where not is_recommendable) as n_unrecommendable
    from catalogue
    group by run_key
),

final as (
    select
        learners.run_key,
        learners.learner_id,
        coalesce(excluded.n_excluded, 0) as n_excluded,
        coalesce(unrecommendable.n_unrecommendable, 0) as n_unrecommendable,
        {{ recommendation_k() }}
        + coalesce(excluded.n_excluded, 0)
        + coalesce(unrecommendable.n_unrecommendable, 0) as pool_size
    from learners
    left join excluded
        on
            learners.run_key = excluded.run_key
            and learners.learner_id = excluded.learner_id
    left join unrecommendable on learners.run_key = unrecommendable.run_key
)

select * from final
