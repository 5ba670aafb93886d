-- One row per experiment × metric × treatment variant × pre-registered dimension × value: the
-- comparison with the control within the slice (the learners of both arms with that value), on the
-- capped learner rows: relative lift with its delta-method 95% interval, the Welch z-test's
-- p-value, and Benjamini-Hochberg across every slice of the experiment and variant (all metrics,
-- dimensions and values: one family). Exploratory: slices suggest hypotheses, they do not decide.
with

learner_metrics as (
    select * from {{ ref('int_experiment_learner_metrics_capped') }}
),

dimensions as (
    select * from {{ ref('int_experiment_learner_dimensions') }}
),

sliced as (
    select
        learner_metrics.experiment_key,
        learner_metrics.metric_key,
        learner_metrics.variant_key,
        learner_metrics.is_control,
        learner_metrics.learner_id,
        learner_metrics.numerator,
        learner_metrics.denominator,
        'country' as dimension,
        dimensions.country as dimension_value
    from learner_metrics
    inner join dimensions
        on
            learner_metrics.experiment_key = dimensions.experiment_key
            and learner_metrics.learner_id = dimensions.learner_id
    union all
    select
        learner_metrics.experiment_key,
        learner_metrics.metric_key,
        learner_metrics.variant_key,
        learner_metrics.is_control,
        learner_metrics.learner_id,
        learner_metrics.numerator,
        learner_metrics.denominator,
        'learner_type' as dimension,
        dimensions.learner_type as dimension_value
    from learner_metrics
    inner join dimensions
        on
            learner_metrics.experiment_key = dimensions.experiment_key
            and learner_metrics.learner_id = dimensions.learner_id
),

slice_statistics as (
    select
        experiment_key,
        metric_key,
        variant_key,
        dimension,
        dimension_value,
        bool_and(is_control) as is_control,
        count(*) as n,
        avg(numerator order by learner_id) as mean_num,
        avg(denominator order by learner_id) as mean_den,
        var_samp(numerator order by learner_id) as var_num,
        var_samp(denominator order by learner_id) as var_den,
        covar_samp(numerator, denominator order by learner_id) as cov_num_den
    from sliced
    group by experiment_key, metric_key, variant_key, dimension, dimension_value
),

arms as (
    select
        experiment_key,
        metric_key,
        variant_key,
        dimension,
        dimension_value,
        is_control,
        n,
        {{ ratio_estimate('mean_num', 'mean_den') }} as mean_value,
        {{ delta_ratio_variance('var_num', 'var_den', 'cov_num_den', 'mean_num', 'mean_den') }} as var_value
    from slice_statistics
),

pairs as (
    select
        treatment.experiment_key,
        treatment.metric_key,
        treatment.variant_key,
        treatment.dimension,
        treatment.dimension_value,
        control.n as n_control,
        treatment.n as n_treatment,
        control.mean_value as mean_control,
        treatment.mean_value as mean_treatment,
        {{ relative_lift('treatment.mean_value', 'control.mean_value') }} as relative_lift,
        {{ relative_lift_se(
            'treatment.mean_value', 'sqrt(treatment.var_value / treatment.n)',
            'control.mean_value', 'sqrt(control.var_value / control.n)'
        ) }} as relative_se,
        {{ z_statistic(
            '(treatment.mean_value - control.mean_value)',
            welch_se('treatment.var_value', 'treatment.n', 'control.var_value', 'control.n')
        ) }} as z_statistic
    from arms as treatment
    inner join arms as control
        on
            treatment.experiment_key = control.experiment_key
            and treatment.metric_key = control.metric_key
            and treatment.dimension = control.dimension
            and treatment.dimension_value = control.dimension_value
            and control.is_control
    where not treatment.is_control
),

with_p_values as (
    select
        *,
        {{ normal_two_sided_p('z_statistic') }} as p_value
    from pairs
),

ranked as (
    select
        *,
        {{ bh_rank_columns('p_value', ['experiment_key', 'variant_key']) }}
    from with_p_values
),

adjusted as (
    select
        *,
        {{ bh_adjusted_p('p_value', ['experiment_key', 'variant_key']) }} as p_value_adjusted
    from ranked
),

final as (
    select
        experiment_key,
        metric_key,
        variant_key,
        dimension,
        dimension_value,
        n_control,
        n_treatment,
        mean_control,
        mean_treatment,
        relative_lift,
        relative_se,
        {{ ci_low('relative_lift', 'relative_se') }} as relative_ci_low,
        {{ ci_high('relative_lift', 'relative_se') }} as relative_ci_high,
        p_value,
        p_value_adjusted,
        coalesce(p_value_adjusted < 0.05, false) as is_significant,
        true as is_exploratory
    from adjusted
)

select * from final
