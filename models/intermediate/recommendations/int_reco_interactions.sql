-- One row per run × learner × course the learner viewed or enrolled in before the run's history
-- horizon. weight is the time-decayed interaction strength (course_view 1, enrolment 2, half-life
-- 30 days from the run's cutoff): the learner-course vector of the item-item co-occurrence.

with

events as (
    select * from {{ ref('stg_player__events') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

learners as (
    select * from {{ ref('int_reco_learners') }}
),

touches as (
    select
        learner_id,
        course_id,
        occurred_at as touched_at,
        'view' as touch_type,
        1.0 as strength
    from events
    where event_type = 'course_view' and course_id is not null
    union all
    select
        learner_id,
        course_id,
        enrolled_at as touched_at,
        'enrollment' as touch_type,
        2.0 as strength
    from enrollments
),

final as (
    select
        runs.run_key,
        touches.learner_id,
        touches.course_id,
        count(*) filter (where touches.touch_type = 'view') as n_views,
        count(*) filter (where touches.touch_type = 'enrollment') as n_enrollments,
        max(touches.touched_at) as last_touched_at,
        max(touches.touched_at) filter (where touches.touch_type = 'view') as last_viewed_at,
        sum(touches.strength * {{ time_decay('touches.touched_at', 'runs.cutoff_at', 30) }}) as weight
    from touches
    inner join runs on touches.touched_at < runs.history_until_at
    inner join learners
        on
            runs.run_key = learners.run_key
            and touches.learner_id = learners.learner_id
    inner join courses on touches.course_id = courses.course_id
    group by runs.run_key, touches.learner_id, touches.course_id
)

select * from final
