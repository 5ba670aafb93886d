-- Producer of module `recent_activity`: the learner's `reco_candidate_pool` (default 50) best
-- courses per run, scored by the item-item co-occurrence of the learner's views and enrolments:
-- sum over the learner's courses a of weight(learner, a) × cosine(a, course), over a's nearest
-- neighbours (int_reco_course_similarities). The time decay of the weights (half-life 30 days)
-- makes recent activity dominate. The pool is larger than the list (`reco_k`, 10) so that the
-- courses the shared contract removes (enrolled, completed, retired) leave k to show; emitting
-- every scored course instead would be O(learners × courses) rows.

with

interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

similarities as (
    select * from {{ ref('int_reco_course_similarities') }}
),

scored as (
    select
        interactions.run_key,
        interactions.learner_id,
        similarities.similar_course_id as course_id,
        sum(interactions.weight * similarities.similarity) as raw_score
    from interactions
    inner join similarities
        on
            interactions.run_key = similarities.run_key
            and interactions.course_id = similarities.course_id
    group by interactions.run_key, interactions.learner_id, similarities.similar_course_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by run_key, learner_id
            -- rounded (macros/round_score.sql): two builds of the same data rank alike
            order by {{ round_score('raw_score') }} desc, course_id asc
        ) as pool_rank
    from scored
),

final as (
    select
        run_key,
        learner_id,
        'recent_activity' as module,
        course_id,
        raw_score,
        'item_item_cosine' as algorithm,
        cast(null as bigint) as reason_course_id
    from ranked
    where pool_rank <= {{ var('reco_candidate_pool', 50) }}
)

select * from final
