-- Producer of module `recent_activity`: one candidate per run × learner × course, scored by the
-- item-item co-occurrence of the learner's views and enrolments: sum over the learner's courses a
-- of weight(learner, a) × cosine(a, course). The time decay of the weights (half-life 30 days)
-- makes recent activity dominate.

with

interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

similarities as (
    select * from {{ ref('int_reco_course_similarities') }}
),

final as (
    select
        interactions.run_key,
        interactions.learner_id,
        'recent_activity' as module,
        similarities.similar_course_id as course_id,
        sum(interactions.weight * similarities.similarity) as raw_score,
        'item_item_cosine' as algorithm,
        cast(null as bigint) as reason_course_id
    from interactions
    inner join similarities
        on
            interactions.run_key = similarities.run_key
            and interactions.course_id = similarities.course_id
    group by interactions.run_key, interactions.learner_id, similarities.similar_course_id
)

select * from final
