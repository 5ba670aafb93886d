-- One row per experiment × metric × learner: int_experiment_learner_metrics with the metric's
-- outlier cap of its analysis plan applied (winsorisation of the right tail), the rows every
-- statistic reads. cap_type percentile: the cap is the cap_value quantile (percentile_cont, linear
-- interpolation) of the numerators of every arm of the experiment pooled, so both arms are capped
-- alike; absolute: cap_value itself. The numerator and the pre-window numerator are capped at the
-- same value (value = numerator for mean and proportion metrics; for ratio metrics the per-learner
-- numerator is capped and value recomputed). Metrics without a cap pass unchanged.
-- experiment_learner_metrics publishes the uncapped values.
with

learner_metrics as (
    select * from {{ ref('int_experiment_learner_metrics') }}
),

plans as (
    select * from {{ ref('int_experiment_analysis_plans') }}
),

percentile_caps as (
    select
        learner_metrics.experiment_key,
        learner_metrics.metric_key,
        percentile_cont(plans.cap_value) within group (order by learner_metrics.numerator) as cap_threshold
    from learner_metrics
    inner join plans
        on
            learner_metrics.experiment_key = plans.experiment_key
            and learner_metrics.metric_key = plans.metric_key
    where plans.cap_type = 'percentile'
    group by learner_metrics.experiment_key, learner_metrics.metric_key, plans.cap_value
),

caps as (
    select
        plans.experiment_key,
        plans.metric_key,
        case
            when plans.cap_type = 'absolute' then plans.cap_value
            when plans.cap_type = 'percentile' then percentile_caps.cap_threshold
        end as cap_threshold
    from plans
    left join percentile_caps
        on
            plans.experiment_key = percentile_caps.experiment_key
            and plans.metric_key = percentile_caps.metric_key
    where plans.cap_type is not null
),

capped as (
    select
        learner_metrics.experiment_key,
        learner_metrics.metric_key,
        learner_metrics.learner_id,
        learner_metrics.variant_key,
        learner_metrics.is_control,
        learner_metrics.metric_type,
        learner_metrics.value as uncapped_value,
        learner_metrics.pre_value as uncapped_pre_value,
        learner_metrics.denominator,
        learner_metrics.pre_denominator,
        learner_metrics.assigned_at,
        caps.cap_threshold,
        case
            when caps.cap_threshold is null then learner_metrics.numerator
            else least(learner_metrics.numerator, caps.cap_threshold)
        end as numerator,
        case
            when caps.cap_threshold is null then learner_metrics.pre_numerator
            else least(learner_metrics.pre_numerator, caps.cap_threshold)
        end as pre_numerator
    from learner_metrics
    left join caps
        on
            learner_metrics.experiment_key = caps.experiment_key
            and learner_metrics.metric_key = caps.metric_key
),

final as (
    select
        experiment_key,
        metric_key,
        learner_id,
        variant_key,
        is_control,
        metric_type,
        case when cap_threshold is null then uncapped_value else numerator / denominator end as value,  -- noqa: RF04
        case
            when cap_threshold is null then uncapped_pre_value
            else pre_numerator / nullif(pre_denominator, 0)
        end as pre_value,
        numerator,
        denominator,
        pre_numerator,
        pre_denominator,
        assigned_at,
        cap_threshold
    from capped
)

select * from final
