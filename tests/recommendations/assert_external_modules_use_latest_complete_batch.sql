-- Every external model is a module, fed only by its latest complete batch. Fails on a list row of
-- an external module that is not a score of that batch, and on a model with a complete batch
-- whose module has no list at all. Completeness is recomputed here from the documented rule
-- (docs/recommendations.md): a batch's share of the learners registered when it started reaches
-- 90% of the model's best share.
with

recommendations as (
    select * from {{ ref('course_recommendations') }}
),

scores as (
    select * from {{ ref('stg_recommender__model_scores') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

batch_sizes as (
    select
        model_name,
        batch_id,
        count(distinct learner_id) as n_learners,
        min(scored_at) as first_scored_at,
        max(scored_at) as last_scored_at
    from scores
    group by model_name, batch_id
),

batch_shares as (
    select
        batch_sizes.model_name,
        batch_sizes.batch_id,
        batch_sizes.last_scored_at,
        max(batch_sizes.n_learners) * 1.0 / count(learners.learner_id) as learner_share
    from batch_sizes
    inner join learners on batch_sizes.first_scored_at > learners.signed_up_at
    group by batch_sizes.model_name, batch_sizes.batch_id, batch_sizes.last_scored_at
),

batches as (
    select
        *,
        learner_share >= 0.9 * max(learner_share) over (partition by model_name) as is_complete
    from batch_shares
),

latest_complete as (
    select distinct on (model_name)
        model_name,
        batch_id
    from batches
    where is_complete
    order by model_name asc, last_scored_at desc, batch_id desc
),

batch_scores as (
    select
        scores.model_name,
        scores.learner_id,
        scores.course_id
    from scores
    inner join latest_complete
        on
            scores.model_name = latest_complete.model_name
            and scores.batch_id = latest_complete.batch_id
),

-- set difference, not an anti-join: robust to the planner's estimates on freshly built tables
foreign_pairs as (
    select
        module,
        learner_id,
        course_id
    from recommendations
    where algorithm = 'external_model'
    except
    select
        model_name as module,
        learner_id,
        course_id
    from batch_scores
),

foreign_rows as (
    select
        module,
        learner_id,
        course_id,
        'not a score of the latest complete batch' as problem
    from foreign_pairs
),

missing_modules as (
    select
        latest_complete.model_name as module,
        cast(null as bigint) as learner_id,
        cast(null as bigint) as course_id,
        'model without a module' as problem
    from latest_complete
    left join recommendations on latest_complete.model_name = recommendations.module
    where recommendations.module is null
)

select * from foreign_rows
union all
select * from missing_modules
