-- One row per external model batch in raw.model_scores, with its size and whether it is complete.
-- Completeness: a batch's learner share is the learners it scores / the learners registered when it
-- started (signed up before its first scored_at). A batch is complete when its share reaches
-- `reco_batch_complete_share` (default 0.9) of the best share among the model's batches: a batch
-- still being written (or a partial rerun) scores a visibly smaller share and is ignored until it
-- is finished, while older batches stay complete although the learner base grew since. A batch's
-- time is its newest scored_at.

with

scores as (
    select * from {{ ref('stg_recommender__model_scores') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

batches as (
    select
        model_name,
        batch_id,
        max(model_version) as model_version,
        count(distinct learner_id) as n_learners,
        count(*) as n_scores,
        min(scored_at) as first_scored_at,
        max(scored_at) as last_scored_at
    from scores
    group by model_name, batch_id
),

registered as (
    select
        batches.model_name,
        batches.batch_id,
        count(learners.learner_id) as n_registered_learners
    from batches
    left join learners on batches.first_scored_at > learners.signed_up_at
    group by batches.model_name, batches.batch_id
),

shares as (
    select
        batches.*,
        registered.n_registered_learners,
        cast(batches.n_learners as double precision)
        / nullif(registered.n_registered_learners, 0) as learner_share
    from batches
    inner join registered
        on
            batches.model_name = registered.model_name
            and batches.batch_id = registered.batch_id
),

final as (
    select
        model_name,
        batch_id,
        model_version,
        n_learners,
        n_scores,
        first_scored_at,
        last_scored_at,
        n_registered_learners,
        learner_share,
        coalesce(
            learner_share >= {{ var('reco_batch_complete_share', 0.9) }} * max(learner_share) over (
                partition by model_name
            ),
            false
        ) as is_complete
    from shares
)

select * from final
