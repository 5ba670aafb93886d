-- One row per run × course: whether it may be recommended in that run (launched and not retired
-- before the run's history horizon; live: not retired at all) and its time-decayed popularity
-- (enrolments of non-deleted learners before the horizon, half-life 14 days from the cutoff).

with

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

learners as (
    select * from {{ ref('int_reco_learners') }}
),

popularity as (
    select
        runs.run_key,
        enrollments.course_id,
        count(*) as n_enrollments,
        sum({{ time_decay('enrollments.enrolled_at', 'runs.cutoff_at', 14) }}) as popularity
    from enrollments
    inner join runs on enrollments.enrolled_at < runs.history_until_at
    inner join learners
        on
            runs.run_key = learners.run_key
            and enrollments.learner_id = learners.learner_id
    group by runs.run_key, enrollments.course_id
),

final as (
    select
        runs.run_key,
        courses.course_id,
        courses.domain,
        (
            (courses.launched_at is null or courses.launched_at < runs.history_until_at)
            and (courses.retired_at is null or courses.retired_at >= runs.history_until_at)
        ) as is_recommendable,
        coalesce(popularity.n_enrollments, 0) as n_enrollments,
        coalesce(popularity.popularity, 0) as popularity
    from courses
    cross join runs
    left join popularity
        on
            runs.run_key = popularity.run_key
            and courses.course_id = popularity.course_id
)

select * from final
