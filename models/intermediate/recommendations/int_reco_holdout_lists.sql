-- One row per learner × module × rank of the hold-out run: every producer's hold-out candidates
-- after the shared contract (macros/recommendation_lists.sql), the lists recommendation_performance
-- evaluates. The live run's lists go through the same contract in course_recommendations, where
-- they are stored.

with

candidates as (
    select * from {{ ref('int_reco_candidates') }}
    where run_key = 'holdout'
),

learners as (
    select * from {{ ref('int_reco_learners') }}
    where run_key = 'holdout'
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
    where run_key = 'holdout'
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
    where run_key = 'holdout'
),

runs as (
    select * from {{ ref('int_reco_runs') }}
    where run_key = 'holdout'
),

{{ recommendation_lists('candidates', 'learners', 'catalogue', 'exclusions', 'runs') }},

final as (
    select
        run_key,
        learner_id,
        module,
        rank,
        course_id,
        score,
        raw_score,
        algorithm,
        reason_course_id,
        generated_at
    from lists
)

select * from final
