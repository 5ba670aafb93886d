-- enrollments (mean): enrolments the learner made in the window; pre_value the same over the
-- pre-window. 0 when none.
{{ config(meta={'metric_type': 'mean'}) }}

with

windows as (
    -- every ended window on a full build; on a daily one, those whose value may have changed
    select * from {{ experiment_metric_windows() }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

final as (
    select
        windows.experiment_key,
        windows.learner_id,
        count(case when enrollments.enrolled_at >= windows.window_start_at then 1 end) as value,  -- noqa: RF04
        count(case when enrollments.enrolled_at < windows.window_start_at then 1 end) as pre_value
    from windows
    left join enrollments
        on
            windows.learner_id = enrollments.learner_id
            and windows.pre_window_start_at <= enrollments.enrolled_at
            and windows.window_end_at > enrollments.enrolled_at
    group by windows.experiment_key, windows.learner_id
)

-- the rows with the bookkeeping the next build compares with
{{ experiment_metric_rows('final') }}
