-- quiz_pass_rate (ratio): passing graded submissions (score >= 0.8) / graded submissions, in the
-- window (numerator, denominator) and the pre-window (pre_numerator, pre_denominator). Learners
-- with no graded submission in the window have denominator 0 and are left out of the metric's n.
{{ config(meta={'metric_type': 'ratio'}) }}

with

windows as (
    -- every ended window on a full build; on a daily one, those whose value may have changed
    select * from {{ experiment_metric_windows() }}
),

submissions as (
    select * from {{ ref('stg_assessment__submissions') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

graded as (
    select
        submissions.learner_id,
        submissions.submitted_at,
        submissions.score >= 0.8 as is_pass
    from submissions
    inner join items on submissions.item_id = items.item_id
    where items.is_graded and submissions.score is not null
),

final as (
    select
        windows.experiment_key,
        windows.learner_id,
        count(case when graded.submitted_at >= windows.window_start_at and graded.is_pass then 1 end) as numerator,
        count(case when graded.submitted_at >= windows.window_start_at then 1 end) as denominator,
        count(case when graded.submitted_at < windows.window_start_at and graded.is_pass then 1 end)
            as pre_numerator,
        count(case when graded.submitted_at < windows.window_start_at then 1 end) as pre_denominator
    from windows
    left join graded
        on
            windows.learner_id = graded.learner_id
            and windows.pre_window_start_at <= graded.submitted_at
            and windows.window_end_at > graded.submitted_at
    group by windows.experiment_key, windows.learner_id
)

-- the rows with the bookkeeping the next build compares with
{{ experiment_metric_rows('final') }}
