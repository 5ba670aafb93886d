-- One row per experiment × metric × learner: the learner's value of every metric the experiment's
-- analysis plan names, over the metric window (pre_value: the pre-window, the CUPED covariate).
-- Ratio metrics leave out learners with a zero denominator in the window (the ratio is undefined
-- for them). What experiment_learner_metrics publishes and the variant statistics read.
with

windows as (
    select * from {{ ref('int_experiment_metric_windows') }}
),

plans as (
    select * from {{ ref('int_experiment_analysis_plans') }}
),

metric_values as (
    select * from {{ ref('int_experiment_metrics_unioned') }}
),

final as (
    select
        metric_values.experiment_key,
        metric_values.metric_key,
        metric_values.learner_id,
        windows.variant_key,
        windows.is_control,
        metric_values.metric_type,
        metric_values.value,
        metric_values.pre_value,
        metric_values.numerator,
        metric_values.denominator,
        metric_values.pre_numerator,
        metric_values.pre_denominator,
        windows.assigned_at
    from metric_values
    inner join plans
        on
            metric_values.experiment_key = plans.experiment_key
            and metric_values.metric_key = plans.metric_key
    inner join windows
        on
            metric_values.experiment_key = windows.experiment_key
            and metric_values.learner_id = windows.learner_id
    where metric_values.denominator > 0
)

select * from final
