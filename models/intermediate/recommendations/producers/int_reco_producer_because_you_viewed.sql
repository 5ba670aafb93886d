-- Producer of module `because_you_viewed`: anchored on the course the learner viewed most recently
-- (reason_course_id), candidates are the anchor's co-occurrence neighbours scored by cosine
-- similarity.

with

interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

similarities as (
    select * from {{ ref('int_reco_course_similarities') }}
),

viewed as (
    select
        run_key,
        learner_id,
        course_id,
        row_number() over (
            partition by learner_id, run_key order by last_viewed_at desc, course_id asc
        ) as recency_rank
    from interactions
    where last_viewed_at is not null
),

anchors as (
    select
        run_key,
        learner_id,
        course_id as anchor_course_id
    from viewed
    where recency_rank = 1
),

final as (
    select
        anchors.run_key,
        anchors.learner_id,
        'because_you_viewed' as module,
        similarities.similar_course_id as course_id,
        similarities.similarity as raw_score,
        'item_item_cosine_anchor' as algorithm,
        anchors.anchor_course_id as reason_course_id
    from anchors
    inner join similarities
        on
            anchors.run_key = similarities.run_key
            and anchors.anchor_course_id = similarities.course_id
)

select * from final
