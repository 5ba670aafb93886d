-- One row per experiment × variant: int_experiment_variant_health and the power of the
-- experiment's primary metric at the current sample. For a treatment variant:
--   mde_relative   the smallest relative lift the comparison with the control detects with the
--                  plan's power at its alpha (two-sided): (z(1 - alpha/2) + z(power)) × se / |control|,
--                  with the Welch se of the difference at the learners analysed so far;
--   days_to_planned_power  the days of further enrolment, at the current daily enrolment rate,
--                  until mde_relative reaches the plan's target_lift (the se shrinks as
--                  1/sqrt(n): n must grow by (mde_relative / target_lift)^2); 0 when it already
--                  has, null without a target_lift or an enrolment rate. The last learners'
--                  windows then need their 14 days to end.
-- The daily enrolment rate is the variant's analysed learners over the days between the first and
-- the last assignment among them.
with

health as (
    select * from {{ ref('int_experiment_variant_health') }}
),

plans as (
    select * from {{ ref('int_experiment_analysis_plans') }}
),

results as (
    select * from {{ ref('int_experiment_results') }}
),

learner_metrics as (
    select * from {{ ref('int_experiment_learner_metrics') }}
),

primary_metrics as (
    -- the experiment's primary metric (the first by key when its plan names several)
    select
        experiment_key,
        metric_key,
        alpha,
        power,
        target_lift,
        row_number() over (partition by experiment_key order by metric_key) as metric_rank
    from plans
    where metric_role = 'primary'
),

enrolment as (
    select
        experiment_key,
        metric_key,
        variant_key,
        count(*) as n_analysed,
        cast(extract(epoch from max(assigned_at) - min(assigned_at)) as double precision) / 86400.0 as enrolment_days
    from learner_metrics
    group by experiment_key, metric_key, variant_key
),

detectable as (
    select
        results.experiment_key,
        results.variant_key,
        (
            {{ normal_quantile_of('1.0 - primary_metrics.alpha / 2.0') }}
            + {{ normal_quantile_of('primary_metrics.power') }}
        ) * results.absolute_se / nullif(abs(results.mean_control), 0) as mde_relative
    from results
    inner join primary_metrics
        on
            results.experiment_key = primary_metrics.experiment_key
            and results.metric_key = primary_metrics.metric_key
            and primary_metrics.metric_rank = 1
),

variants as (
    select
        health.experiment_key,
        health.variant_key,
        primary_metrics.metric_key as primary_metric_key,
        primary_metrics.alpha,
        primary_metrics.power,
        primary_metrics.target_lift,
        detectable.mde_relative,
        enrolment.n_analysed / nullif(enrolment.enrolment_days, 0) as daily_enrolments,
        enrolment.n_analysed
    from health
    left join primary_metrics
        on
            health.experiment_key = primary_metrics.experiment_key
            and primary_metrics.metric_rank = 1
    left join detectable
        on
            health.experiment_key = detectable.experiment_key
            and health.variant_key = detectable.variant_key
    left join enrolment
        on
            health.experiment_key = enrolment.experiment_key
            and primary_metrics.metric_key = enrolment.metric_key
            and health.variant_key = enrolment.variant_key
),

final as (
    select
        health.experiment_key,
        health.variant_key,
        health.is_control,
        health.planned_weight,
        health.n_assigned,
        health.n_contaminated,
        health.n_expected,
        health.srm_chi2,
        health.srm_p_value,
        health.has_srm,
        variants.primary_metric_key,
        variants.alpha,
        variants.power,
        variants.target_lift,
        variants.mde_relative,
        variants.daily_enrolments,
        case
            when variants.mde_relative is null or variants.target_lift is null or variants.target_lift = 0 then null
            when variants.mde_relative <= abs(variants.target_lift) then cast(0.0 as double precision)
            else
                (power(variants.mde_relative / abs(variants.target_lift), 2) - 1.0) * variants.n_analysed
                / nullif(variants.daily_enrolments, 0)
        end as days_to_planned_power
    from health
    inner join variants
        on
            health.experiment_key = variants.experiment_key
            and health.variant_key = variants.variant_key
)

select * from final
