-- The candidate pools (`reco_candidate_pool` of recent_activity, `reco_popular_pool` of popular)
-- must leave k courses after the contract's exclusions: a learner excluded from more than
-- pool - k courses could get a list shorter than without the pool. Warns on each such learner
-- (raise the pool); the lists stay valid, only possibly short.
{{ config(severity='warn', group='recommendations') }}

with

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
),

per_learner as (
    select
        run_key,
        learner_id,
        count(*) as n_exclusions
    from exclusions
    group by run_key, learner_id
)

select
    run_key,
    learner_id,
    n_exclusions
from per_learner
where
    n_exclusions + {{ recommendation_k() }}
    > least({{ var('reco_candidate_pool', 50) }}, {{ var('reco_popular_pool', 50) }})
