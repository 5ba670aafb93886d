-- One row per run × learner × course the learner viewed or enrolled in before the run's history
-- horizon. weight is the time-decayed interaction strength (course_view 1, enrolment 2, half-life
-- 30 days from the run's cutoff): the learner-course vector of the item-item co-occurrence.
-- The views come from int_reco_course_views, which keeps each learner × course's decayed sum of
-- views as exact state (macros/time_decay.sql), so the history of events is not read again: the
-- weight is that sum decayed to the run's cutoff, plus the enrolments' (read whole: one row per
-- enrolment). A view after the cutoff counts as fresh (weight 1) like any decayed event
-- (macros/time_decay.sql): only the live run can have one (stamped after as_of, within the clock
-- skew staging accepts), and the few views received since as_of minus that tolerance correct the
-- sum (fresh_views).

with

course_views as (
    select * from {{ ref('int_reco_course_views') }}
),

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

views as (
    -- each run's view aggregates: every view for live, those before the cutoff for the hold-out
    select
        runs.run_key,
        course_views.learner_id,
        course_views.course_id,
        case when runs.run_key = 'live' then course_views.n_views else course_views.holdout_n_views end
            as n_views,
        case when runs.run_key = 'live' then course_views.last_viewed_at else course_views.holdout_last_viewed_at end
            as last_viewed_at,
        {{ decay_at(
            "case when runs.run_key = 'live' then course_views.view_decay_sum else course_views.holdout_view_decay_sum end",
            'runs.cutoff_at',
            recommendation_interaction_half_life_days(),
        ) }} as weight
    from course_views
    cross join runs
    where runs.run_key = 'live' or course_views.holdout_n_views > 0
),

live_run as (
    select * from runs
    where run_key = 'live'
),

fresh_bound as (
    select cutoff_at - interval '{{ var("future_tolerance_hours") }} hours' as received_after
    from live_run
),

fresh_views as (
    -- views stamped after the live run's cutoff (as_of): the decayed sum counts each as
    -- decay_at(its term), more than 1; the weight counts it as 1. Such a view was received at most
    -- the clock-skew tolerance before its timestamp, so after the cutoff minus the tolerance: an
    -- index range of the events (the bound is one value, so the planner can use the index). The
    -- hold-out run's history ends at its cutoff, so it has none.
    select
        live_run.run_key,
        events.learner_id,
        events.course_id,
        sum(1 - {{ decay_at(
            decay_term('events.occurred_at', recommendation_interaction_half_life_days()),
            'live_run.cutoff_at',
            recommendation_interaction_half_life_days(),
        ) }}) as correction
    from events
    cross join live_run
    where
        events.received_at > (select fresh_bound.received_after from fresh_bound)
        and events.occurred_at > live_run.cutoff_at
        and events.event_type = 'course_view'
        and events.course_id is not null
    group by live_run.run_key, events.learner_id, events.course_id
),

enrolled as (
    select
        runs.run_key,
        enrollments.learner_id,
        enrollments.course_id,
        count(*) as n_enrollments,
        max(enrollments.enrolled_at) as last_enrolled_at,
        sum(2.0 * {{ time_decay(
            'enrollments.enrolled_at', 'runs.cutoff_at', recommendation_interaction_half_life_days()
        ) }}) as weight
    from enrollments
    inner join runs on enrollments.enrolled_at < runs.history_until_at
    group by runs.run_key, enrollments.learner_id, enrollments.course_id
),

touched as (
    select
        coalesce(views.run_key, enrolled.run_key) as run_key,
        coalesce(views.learner_id, enrolled.learner_id) as learner_id,
        coalesce(views.course_id, enrolled.course_id) as course_id,
        coalesce(views.n_views, 0) as n_views,
        coalesce(enrolled.n_enrollments, 0) as n_enrollments,
        views.last_viewed_at,
        enrolled.last_enrolled_at,
        coalesce(views.weight, 0) + coalesce(enrolled.weight, 0) as weight
    from views
    full outer join enrolled
        on
            views.run_key = enrolled.run_key
            and views.learner_id = enrolled.learner_id
            and views.course_id = enrolled.course_id
),

final as (
    select
        touched.run_key,
        touched.learner_id,
        touched.course_id,
        touched.n_views,
        touched.n_enrollments,
        greatest(touched.last_viewed_at, touched.last_enrolled_at) as last_touched_at,
        touched.last_viewed_at,
        touched.weight + coalesce(fresh_views.correction, 0) as weight
    from touched
    inner join learners
        on
            touched.run_key = learners.run_key
            and touched.learner_id = learners.learner_id
    inner join courses on touched.course_id = courses.course_id
    left join fresh_views
        on
            touched.run_key = fresh_views.run_key
            and touched.learner_id = fresh_views.learner_id
            and touched.course_id = fresh_views.course_id
)

select * from final
