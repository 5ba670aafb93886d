-- Producer of one module per external model in raw.model_scores (module = model_name): the scores
-- of the model's latest complete batch (int_reco_model_batches) written before the run's history
-- horizon. Raw scores are unbounded reals; raw_score is their logistic transform (monotone, in
-- 0..1; the contract then divides by the list's best). Adding a model is adding a batch of rows.
-- Emits the learner's pool_size best courses per model (int_reco_candidate_pools): exactly those
-- that can reach the list.

with

scores as (
    select * from {{ ref('stg_recommender__model_scores') }}
),

batches as (
    select * from {{ ref('int_reco_model_batches') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

pools as (
    select * from {{ ref('int_reco_candidate_pools') }}
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
),

complete_batches as (
    select
        runs.run_key,
        batches.model_name,
        batches.batch_id,
        row_number() over (
            partition by runs.run_key, batches.model_name
            order by batches.last_scored_at desc, batches.batch_id desc
        ) as recency_rank
    from batches
    inner join runs on batches.last_scored_at < runs.history_until_at
    where batches.is_complete
),

selected_batches as (
    select
        run_key,
        model_name,
        batch_id
    from complete_batches
    where recency_rank = 1
),

clamped as (
    select
        selected_batches.run_key,
        scores.learner_id,
        scores.model_name,
        scores.course_id,
        -- exp() stays finite and non-zero inside +-700
        greatest(least(scores.score, 700), -700) as score
    from scores
    inner join selected_batches
        on
            scores.model_name = selected_batches.model_name
            and scores.batch_id = selected_batches.batch_id
    inner join pools
        on
            selected_batches.run_key = pools.run_key
            and scores.learner_id = pools.learner_id
),

transformed as (
    select
        run_key,
        learner_id,
        model_name as module,
        course_id,
        case
            when score >= 0 then 1 / (1 + exp(-score))
            else exp(score) / (1 + exp(score))
        end as raw_score
    from clamped
),

pooled as (
    {{ candidate_pool('transformed', partition_by=['learner_id', 'run_key', 'module']) }}
),

final as (
    select
        run_key,
        learner_id,
        module,
        course_id,
        raw_score,
        'external_model' as algorithm,
        cast(null as bigint) as reason_course_id
    from pooled
)

select * from final
