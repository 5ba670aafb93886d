-- One row per run × learner × course the learner may not be recommended: enrolled at the run's
-- history horizon (latest enrolment before it not withdrawn before it) or completed before it
-- (every item of the course completed). Retired courses are excluded through int_reco_catalogue.

with

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

course_completions as (
    select * from {{ ref('int_course_completions_aggregated') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

enrollments_before_horizon as (
    select
        runs.run_key,
        enrollments.learner_id,
        enrollments.course_id,
        (
            enrollments.unenrolled_at is null
            or enrollments.unenrolled_at >= runs.history_until_at
        ) as is_enrolled,
        row_number() over (
            partition by enrollments.learner_id, runs.run_key, enrollments.course_id
            order by enrollments.enrolled_at desc, enrollments.enrollment_id desc
        ) as recency_rank
    from enrollments
    inner join runs on enrollments.enrolled_at < runs.history_until_at
),

latest_enrollments as (
    select
        run_key,
        learner_id,
        course_id,
        is_enrolled
    from enrollments_before_horizon
    where recency_rank = 1
),

course_sizes as (
    select
        course_id,
        count(*) as n_items
    from items
    group by course_id
),

completed as (
    -- every item completed before the horizon: all of them, the last one before it (aggregated
    -- once per learner × course in core, not once per run)
    select
        runs.run_key,
        course_completions.learner_id,
        course_completions.course_id
    from course_completions
    inner join course_sizes on course_completions.course_id = course_sizes.course_id
    inner join runs on course_completions.last_item_completed_at < runs.history_until_at
    where course_completions.items_completed >= course_sizes.n_items
),

unioned as (
    select
        run_key,
        learner_id,
        course_id,
        'enrolled' as exclusion_reason
    from latest_enrollments
    where is_enrolled
    union all
    select
        run_key,
        learner_id,
        course_id,
        'completed' as exclusion_reason
    from completed
),

final as (
    select
        run_key,
        learner_id,
        course_id,
        string_agg(exclusion_reason, ',' order by exclusion_reason) as exclusion_reasons
    from unioned
    group by run_key, learner_id, course_id
)

select * from final
