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

anchors as (
    select distinct on (run_key, learner_id)
        run_key,
        learner_id,
        course_id as anchor_course_id
    from interactions
    where last_viewed_at is not null
    order by run_key asc, learner_id asc, last_viewed_at desc, course_id asc
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
