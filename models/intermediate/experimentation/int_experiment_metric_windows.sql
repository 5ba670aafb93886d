-- One row per clean experiment × learner whose metric window has ended by the build's reference
-- time: the window is the {{ var('experiment_window_days', 14) }} days from the first assignment, the
-- pre-window the same length before it. Metric models compute learner values over these windows.
with

assignments as (
    select * from {{ ref('int_experiment_assignments_classified') }}
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
    from assignments
    where
        is_clean
        and assigned_at + interval '{{ var("experiment_window_days", 14) }} days' <= {{ as_of() }}
)

select * from final
