-- One row per learner × module × rank: the live recommendation lists, every producer's live
-- candidates after the shared contract (macros/recommendation_lists.sql; the hold-out run's go
-- through it in int_reco_holdout_lists). Only learners of int_reco_learners (not deleted) get a
-- list.

with

candidates as (
    select * from {{ ref('int_reco_candidates') }}
    where run_key = 'live'
),

learners as (
    select * from {{ ref('int_reco_learners') }}
    where run_key = 'live'
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
    where run_key = 'live'
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
    where run_key = 'live'
),

runs as (
    select * from {{ ref('int_reco_runs') }}
    where run_key = 'live'
),

{{ recommendation_lists('candidates', 'learners', 'catalogue', 'exclusions', 'runs') }},

final as (
    select
        learner_id,
        module,
        rank,
        course_id,
        score,
        algorithm,
        reason_course_id,
        generated_at
    from lists
)

-- stored in key order (publishing moves the table as it is): a service's lookup of one learner
-- reads the one or two pages that hold the learner's lists through the primary key's index
select * from final
order by learner_id, module, rank
