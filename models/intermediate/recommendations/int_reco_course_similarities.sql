-- One row per run × ordered pair of distinct courses co-viewed or co-enrolled by at least
-- `reco_min_support` learners (default 5): cosine similarity of the courses' time-decayed learner
-- vectors (int_reco_interactions.weight). Symmetric: both (a, b) and (b, a) are present.

with

interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

norms as (
    select
        run_key,
        course_id,
        sqrt(sum(weight * weight)) as norm
    from interactions
    group by run_key, course_id
),

pairs as (
    select
        left_side.run_key,
        left_side.course_id,
        right_side.course_id as similar_course_id,
        count(*) as n_common_learners,
        sum(left_side.weight * right_side.weight) as dot_product
    from interactions as left_side
    inner join interactions as right_side
        on
            left_side.run_key = right_side.run_key
            and left_side.learner_id = right_side.learner_id
            and left_side.course_id != right_side.course_id
    group by left_side.run_key, left_side.course_id, right_side.course_id
),

final as (
    select
        pairs.run_key,
        pairs.course_id,
        pairs.similar_course_id,
        pairs.n_common_learners,
        pairs.dot_product / (left_norms.norm * right_norms.norm) as similarity
    from pairs
    inner join norms as left_norms
        on
            pairs.run_key = left_norms.run_key
            and pairs.course_id = left_norms.course_id
    inner join norms as right_norms
        on
            pairs.run_key = right_norms.run_key
            and pairs.similar_course_id = right_norms.course_id
    where pairs.n_common_learners >= {{ var('reco_min_support', 5) }}
)

select * from final
