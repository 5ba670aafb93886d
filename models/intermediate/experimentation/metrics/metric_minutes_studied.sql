-- minutes_studied (mean): the estimated minutes of the distinct items the learner completed in the
-- window; pre_value the same over the pre-window. 0 when the learner completed nothing. A few
-- learners complete many long items, so its distribution has a heavy right tail: the metric an
-- analysis plan caps (cap_type, cap_value; docs/experimentation.md).
{{ config(meta={'metric_type': 'mean'}) }}

with

windows as (
    -- every ended window on a full build; on a daily one, those whose value may have changed
    select * from {{ experiment_metric_windows() }}
),

events as (
    select * from {{ ref('stg_player__events') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

completions as (
    select
        learner_id,
        item_id,
        occurred_at
    from events
    where event_type = 'item_complete' and item_id is not null
),

studied as (
    -- each item once per learner and period (window or pre-window), as items_completed counts it
    select distinct
        windows.experiment_key,
        windows.learner_id,
        completions.item_id,
        completions.occurred_at >= windows.window_start_at as is_in_window
    from windows
    inner join completions
        on
            windows.learner_id = completions.learner_id
            and windows.pre_window_start_at <= completions.occurred_at
            and windows.window_end_at > completions.occurred_at
),

final as (
    select
        windows.experiment_key,
        windows.learner_id,
        cast(coalesce(sum(case when studied.is_in_window then items.estimated_minutes end), 0) as double precision)
            as value,  -- noqa: RF04
        cast(coalesce(sum(case when not studied.is_in_window then items.estimated_minutes end), 0) as double precision)
            as pre_value
    from windows
    left join studied
        on
            windows.experiment_key = studied.experiment_key
            and windows.learner_id = studied.learner_id
    left join items on studied.item_id = items.item_id
    group by windows.experiment_key, windows.learner_id
)

-- the rows with the bookkeeping the next build compares with
{{ experiment_metric_rows('final') }}
