-- One row per run × learner who can receive recommendations: signed up before the run's history
-- horizon and not deleted before it; has_history is true when the learner viewed or enrolled in
-- any course before it (learners without history are the cold start: they get `popular`).

with

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

course_activity as (
    select * from {{ ref('int_learner_course_activity_aggregated') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

touches as (
    select
        learner_id,
        first_viewed_at as touched_at
    from course_activity
    where first_viewed_at is not null
    union all
    select
        learner_id,
        enrolled_at as touched_at
    from enrollments
),

first_touches as (
    select
        learner_id,
        min(touched_at) as first_touched_at
    from touches
    group by learner_id
),

final as (
    select
        runs.run_key,
        learners.learner_id,
        coalesce(first_touches.first_touched_at < runs.history_until_at, false) as has_history
    from learners
    cross join runs
    left join first_touches on learners.learner_id = first_touches.learner_id
    where
        -- as at the run's horizon: a learner deleted since (their row's updated_at, the deletion)
        -- is still in the hold-out run until its cutoff moves, so a deletion does not recompute
        -- it (int_reco_run_refresh); never in the live run, whose horizon is infinity
        (not learners.is_deleted or learners.updated_at >= runs.history_until_at)
        and learners.signed_up_at < runs.history_until_at
)

select * from final
