-- One row per clean experiment × learner whose metric window has ended by the build's reference
-- time: the window is the {{ var('experiment_window_days', 14) }} days from the first assignment, the
-- pre-window the same length before it. Metric models compute learner values over these windows.
with

clean as (
    -- the clean assignments are defined once, by the experiment_assignments mart
    select * from {{ ref('experiment_assignments') }}
),

final as (
    select
        experiment_key,
        learner_id,
        variant_key,
        is_control,
        assigned_at,
        assigned_at - interval '{{ var("experiment_window_days", 14) }} days' as pre_window_start_at,
        assigned_at as window_start_at,
        assigned_at + interval '{{ var("experiment_window_days", 14) }} days' as window_end_at
    from clean
    where assigned_at + interval '{{ var("experiment_window_days", 14) }} days' <= {{ as_of() }}
)

select * from final
