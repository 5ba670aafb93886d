-- One row per run × course × one of its nearest neighbours: the `reco_neighbours` (default 20)
-- courses most similar to it among those co-viewed or co-enrolled with it by at least
-- `reco_min_support` learners (default 5). Similarity is the cosine of the courses' time-decayed
-- learner vectors (int_reco_interactions.weight). Keeping only the nearest neighbours (item-item
-- k-NN) bounds every producer built on it to O(learners × neighbours) candidates instead of
-- O(learners × courses); a pair may be kept in one direction only. Only for the runs this build
-- computes (int_reco_run_refresh).

with

all_interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

due_runs as (
    select * from {{ ref('int_reco_run_refresh') }}
    where is_due
),

interactions as (
    -- the runs this build computes (int_reco_run_refresh): every producer reads its neighbours
    -- from here or its learners from int_reco_candidate_pools, so a run that is not due gets no
    -- candidates and no lists
    select
        all_interactions.run_key,
        all_interactions.learner_id,
        all_interactions.course_id,
        all_interactions.weight
    from all_interactions
    inner join due_runs on all_interactions.run_key = due_runs.run_key
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

scored as (
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
),

ranked as (
    select
        *,
        row_number() over (
            partition by run_key, course_id
            -- rounded (macros/round_score.sql): two builds of the same data rank alike
            order by {{ round_score('similarity') }} desc, similar_course_id asc
        ) as neighbour_rank
    from scored
),

final as (
    select
        run_key,
        course_id,
        similar_course_id,
        cast(neighbour_rank as integer) as neighbour_rank,
        n_common_learners,
        similarity
    from ranked
    where neighbour_rank <= {{ var('reco_neighbours', 20) }}
)

select * from final
