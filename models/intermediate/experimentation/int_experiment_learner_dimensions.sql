-- One row per clean experiment × learner whose metric window has ended: the pre-registered
-- dimensions the exploratory slices cut by. country: the learner's country code ('unknown' when
-- not given); learner_type: 'new' when the learner signed up within the pre-window (the
-- {{ var('experiment_window_days', 14) }} days before the first assignment) or later, else 'returning'.
with

windows as (
    select * from {{ ref('int_experiment_metric_windows') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

final as (
    select
        windows.experiment_key,
        windows.learner_id,
        coalesce(learners.country_code, 'unknown') as country,
        case when learners.signed_up_at >= windows.pre_window_start_at then 'new' else 'returning' end as learner_type
    from windows
    left join learners on windows.learner_id = learners.learner_id
)

select * from final
