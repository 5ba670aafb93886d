-- One row per run × learner who can receive recommendations: signed up before the run's history
-- horizon and not deleted before it; has_history is true when the learner viewed or enrolled in
-- any course before it (learners without history are the cold start: they get `popular`). The
-- hold-out run's views are those int_reco_course_views keeps for it (received before its cutoff).

with

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

course_views as (
    select * from {{ ref('int_reco_course_views') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

viewed as (
    -- a view at all (live) and a view the hold-out run sees (int_reco_course_views: before its
    -- cutoff, and received before it)
    select
        learner_id,
        max(coalesce(n_views, 0)) > 0 as has_view,
        max(coalesce(holdout_n_views, 0)) > 0 as has_holdout_view
    from course_views
    group by learner_id
),

first_enrollments as (
    select
        learner_id,
        min(enrolled_at) as first_enrolled_at
    from enrollments
    group by learner_id
),

final as (
    select
        runs.run_key,
        learners.learner_id,
        coalesce(first_enrollments.first_enrolled_at < runs.history_until_at, false)
        or coalesce(case when runs.run_key = 'live' then viewed.has_view else viewed.has_holdout_view end, false)
            as has_history
    from learners
    cross join runs
    left join viewed on learners.learner_id = viewed.learner_id
    left join first_enrollments on learners.learner_id = first_enrollments.learner_id
    where
        -- as at the run's horizon: a learner deleted since (their row's updated_at, the deletion)
        -- is still in the hold-out run until its cutoff moves, so a deletion does not recompute
        -- it (int_reco_run_refresh); never in the live run, whose horizon is infinity
        (not learners.is_deleted or learners.updated_at >= runs.history_until_at)
        and learners.signed_up_at < runs.history_until_at
)

select * from final
