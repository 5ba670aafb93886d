-- active_learner (proportion): 1 if the learner had any item_complete event in the window, else 0;
-- pre_value the same over the pre-window.
{{ config(meta={'metric_type': 'proportion'}) }}

with

windows as (
    -- every ended window on a full build; on a daily one, those whose value may have changed
    select * from {{ experiment_metric_windows() }}
),

events as (
    select * from {{ ref('stg_player__events') }}
),

completions as (
    select
        learner_id,
        occurred_at
    from events
    where event_type = 'item_complete'
),

final as (
    select
        windows.experiment_key,
        windows.learner_id,
        max(case when completions.occurred_at >= windows.window_start_at then 1 else 0 end) as value,  -- noqa: RF04
        max(case when completions.occurred_at < windows.window_start_at then 1 else 0 end) as pre_value
    from windows
    left join completions
        on
            windows.learner_id = completions.learner_id
            and windows.pre_window_start_at <= completions.occurred_at
            and windows.window_end_at > completions.occurred_at
    group by windows.experiment_key, windows.learner_id
)

-- the rows with the bookkeeping the next build compares with
{{ experiment_metric_rows('final') }}
