-- One row per run × learner × module × rank: the shared contract every producer's candidates go
-- through. It drops candidates for unknown or deleted learners (int_reco_learners), courses that
-- are not recommendable in the run (retired, int_reco_catalogue), courses the learner is enrolled
-- in or has completed (int_reco_exclusions) and non-positive or null scores; keeps the k best
-- (ties broken by course_id); ranks them 1..k without gaps; and normalises the score to 0..1 by
-- dividing by the list's best raw score, which keeps it non-increasing with rank (the best course
-- scores 1). A course is a candidate at most once per list: int_reco_candidates' unique index.
-- The windows are partitioned by learner_id first: the sort then compares integers before the
-- two-valued run_key text (the same rows, in less time).

with

candidates as (
    select * from {{ ref('int_reco_candidates') }}
),

learners as (
    select * from {{ ref('int_reco_learners') }}
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

eligible as (
    select
        candidates.run_key,
        candidates.learner_id,
        candidates.module,
        candidates.course_id,
        -- rounded (macros/round_score.sql): two builds of the same data rank alike
        {{ round_score('candidates.raw_score') }} as raw_score,
        candidates.algorithm,
        candidates.reason_course_id
    from candidates
    inner join learners
        on
            candidates.run_key = learners.run_key
            and candidates.learner_id = learners.learner_id
    inner join catalogue
        on
            candidates.run_key = catalogue.run_key
            and candidates.course_id = catalogue.course_id
    left join exclusions
        on
            candidates.run_key = exclusions.run_key
            and candidates.learner_id = exclusions.learner_id
            and candidates.course_id = exclusions.course_id
    where
        catalogue.is_recommendable
        -- not excluded. `exclusions.course_id is null` says the same, but PostgreSQL turns it into
        -- an anti join, whose estimate on three correlated keys falls to one row at 500,000
        -- learners; the nested loops it then chose over the learners did not finish. Written as
        -- a comparison, the join stays an outer join and is estimated at about the rows it keeps.
        and exclusions.course_id is distinct from candidates.course_id
        and candidates.raw_score > 0
),

ranked as (
    select
        *,
        row_number() over (
            partition by learner_id, run_key, module order by raw_score desc, course_id asc
        ) as rank
    from eligible
),

top_k as (
    select
        *,
        max(raw_score) over (partition by learner_id, run_key, module) as best_raw_score
    from ranked
    where rank <= {{ recommendation_k() }}
),

final as (
    select
        top_k.run_key,
        top_k.learner_id,
        top_k.module,
        cast(top_k.rank as integer) as rank,
        top_k.course_id,
        top_k.raw_score / top_k.best_raw_score as score,
        top_k.raw_score,
        top_k.algorithm,
        top_k.reason_course_id,
        runs.cutoff_at as generated_at
    from top_k
    inner join runs on top_k.run_key = runs.run_key
)

select * from final
