-- One row per run this build computes (int_reco_run_refresh) × learner who can be recommended to:
-- how many of a producer's best candidates can reach the learner's list. int_reco_lists keeps the
-- k best candidates that are neither excluded for the learner (int_reco_exclusions) nor
-- unrecommendable in the run (int_reco_catalogue). A producer that drops the unrecommendable
-- courses and emits its k + n_excluded best (ordered like the lists: rounded score desc,
-- course_id asc; the macro candidate_pool does both) leaves at least k for the list, so it gives
-- exactly the lists it would give emitting every scored course, with O(learners × k) rows instead
-- of O(learners × courses).

with

all_learners as (
    select * from {{ ref('int_reco_learners') }}
),

due_runs as (
    select * from {{ ref('int_reco_run_refresh') }}
    where is_due
),

learners as (
    -- the runs this build computes (int_reco_run_refresh): no pool, no candidates
    select
        all_learners.run_key,
        all_learners.learner_id
    from all_learners
    inner join due_runs on all_learners.run_key = due_runs.run_key
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
),

excluded as (
    select
        run_key,
        learner_id,
        count(*) as n_excluded
    from exclusions
    group by run_key, learner_id
),

final as (
    select
        learners.run_key,
        learners.learner_id,
        coalesce(excluded.n_excluded, 0) as n_excluded,
        {{ recommendation_k() }} + coalesce(excluded.n_excluded, 0) as pool_size
    from learners
    left join excluded
        on
            learners.run_key = excluded.run_key
            and learners.learner_id = excluded.learner_id
)

select * from final
