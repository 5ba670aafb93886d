-- Producer of module `recent_activity`: courses scored by the item-item co-occurrence of the
-- learner's views and enrolments: sum over the learner's courses a of weight(learner, a) ×
-- cosine(a, course), over a's nearest neighbours (int_reco_course_similarities). The time decay of
-- the weights (half-life 30 days) makes recent activity dominate. Emits the learner's pool_size
-- best courses (int_reco_candidate_pools): exactly those that can reach the list.

with

interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

similarities as (
    select * from {{ ref('int_reco_course_similarities') }}
),

pools as (
    select * from {{ ref('int_reco_candidate_pools') }}
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
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

pooled as (
    {{ candidate_pool('scored') }}
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
    from pooled
)

select * from final
