-- One row per experiment × metric × treatment variant, compared with the experiment's control:
-- Welch z-test, 95% intervals, relative lift (delta method), CUPED, Benjamini-Hochberg, and the
-- always-valid (sequential) interval of the relative lift (macros/statistics/sequential.sql).
-- experiment_results publishes it (v1 without the sequential columns).
-- Everything is computed from the per-variant sufficient statistics; every metric is a ratio of
-- per-learner sums (den = 1 for mean and proportion metrics, where the formulas reduce exactly to
-- the plain two-sample ones).
with

variant_statistics as (
    select * from {{ ref('int_experiment_variant_statistics') }}
),

plans as (
    select * from {{ ref('int_experiment_analysis_plans') }}
),

health as (
    select * from {{ ref('int_experiment_variant_health') }}
),

experiment_srm as (
    -- the sample-ratio-mismatch verdict is the experiment's (one test across its variants)
    select
        experiment_key,
        bool_or(has_srm) as has_srm
    from health
    group by experiment_key
),

arms as (
    -- per arm: the ratio estimate, the delta-method (linearised) variance of the metric and of
    -- its pre-window covariate, and their covariance
    select
        experiment_key,
        metric_key,
        variant_key,
        is_control,
        n,
        {{ ratio_estimate('mean_num', 'mean_den') }} as mean_value,
        {{ ratio_estimate('mean_pre_num', 'mean_pre_den') }} as mean_pre_value,
        {{ delta_ratio_variance('var_num', 'var_den', 'cov_num_den', 'mean_num', 'mean_den') }} as var_value,
        {{ delta_ratio_variance('var_pre_num', 'var_pre_den', 'cov_pre_num_pre_den', 'mean_pre_num', 'mean_pre_den') }}
            as var_pre_value,
        {{ delta_ratio_covariance(
            'cov_num_pre_num', 'cov_num_pre_den', 'cov_den_pre_num', 'cov_den_pre_den',
            'mean_num', 'mean_den', 'mean_pre_num', 'mean_pre_den'
        ) }} as cov_value_pre_value
    from variant_statistics
),

pairs as (
    select
        treatment.experiment_key,
        treatment.metric_key,
        plans.metric_role,
        treatment.variant_key,
        control.variant_key as control_variant_key,
        control.n as n_control,
        treatment.n as n_treatment,
        control.mean_value as mean_control,
        treatment.mean_value as mean_treatment,
        control.var_value as var_control,
        treatment.var_value as var_treatment,
        control.mean_pre_value as mean_pre_control,
        treatment.mean_pre_value as mean_pre_treatment,
        treatment.mean_value - control.mean_value as absolute_effect,
        {{ welch_se('treatment.var_value', 'treatment.n', 'control.var_value', 'control.n') }} as absolute_se,
        sqrt(treatment.var_value / treatment.n) as se_treatment,
        sqrt(control.var_value / control.n) as se_control,
        -- CUPED: theta = pooled within-arm cov(value, pre_value) / pooled within-arm var(pre_value)
        ((treatment.n - 1) * treatment.cov_value_pre_value + (control.n - 1) * control.cov_value_pre_value)
        / nullif((treatment.n - 1) * treatment.var_pre_value + (control.n - 1) * control.var_pre_value, 0)
            as cuped_theta,
        (treatment.n - 1) * treatment.var_value + (control.n - 1) * control.var_value as pooled_ss_value,
        (treatment.n - 1) * treatment.var_pre_value + (control.n - 1) * control.var_pre_value as pooled_ss_pre_value,
        (treatment.n - 1) * treatment.cov_value_pre_value + (control.n - 1) * control.cov_value_pre_value
            as pooled_sp_value_pre_value,
        treatment.var_pre_value as var_pre_treatment,
        control.var_pre_value as var_pre_control,
        treatment.cov_value_pre_value as cov_treatment,
        control.cov_value_pre_value as cov_control
    from arms as treatment
    inner join arms as control
        on
            treatment.experiment_key = control.experiment_key
            and treatment.metric_key = control.metric_key
            and control.is_control
    inner join plans
        on
            treatment.experiment_key = plans.experiment_key
            and treatment.metric_key = plans.metric_key
    where not treatment.is_control
),

tested as (
    select
        *,
        {{ z_statistic('absolute_effect', 'absolute_se') }} as z_statistic,
        {{ relative_lift('mean_treatment', 'mean_control') }} as relative_lift,
        {{ relative_lift_se('mean_treatment', 'se_treatment', 'mean_control', 'se_control') }} as relative_se,
        absolute_effect - cuped_theta * (mean_pre_treatment - mean_pre_control) as cuped_absolute_effect,
        {{ welch_se(
            adjusted_variance('var_treatment', 'cov_treatment', 'var_pre_treatment', 'cuped_theta'), 'n_treatment',
            adjusted_variance('var_control', 'cov_control', 'var_pre_control', 'cuped_theta'), 'n_control'
        ) }} as cuped_se,
        -- 1 - var(value - theta pre_value) / var(value), pooled within arms; with theta at its
        -- optimum this is the squared pooled correlation, computed in that form (no cancellation)
        pooled_sp_value_pre_value * pooled_sp_value_pre_value
        / nullif(pooled_ss_value * pooled_ss_pre_value, 0) as variance_reduction
    from pairs
),

with_p_values as (
    select
        *,
        {{ normal_two_sided_p('z_statistic') }} as p_value,
        {{ normal_two_sided_p(z_statistic('cuped_absolute_effect', 'cuped_se')) }} as cuped_p_value
    from tested
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

flagged as (
    select
        adjusted.*,
        coalesce(experiment_srm.has_srm, false) as has_srm
    from adjusted
    left join experiment_srm on adjusted.experiment_key = experiment_srm.experiment_key
),

intervals as (
    select
        experiment_key,
        metric_key,
        metric_role,
        variant_key,
        control_variant_key,
        n_control,
        n_treatment,
        mean_control,
        mean_treatment,
        var_control,
        var_treatment,
        absolute_effect,
        absolute_se,
        {{ ci_low('absolute_effect', 'absolute_se') }} as absolute_ci_low,
        {{ ci_high('absolute_effect', 'absolute_se') }} as absolute_ci_high,
        relative_lift,
        relative_se,
        {{ ci_low('relative_lift', 'relative_se') }} as relative_ci_low,
        {{ ci_high('relative_lift', 'relative_se') }} as relative_ci_high,
        z_statistic,
        p_value,
        p_value_adjusted,
        cuped_theta,
        cuped_absolute_effect,
        cuped_se,
        {{ ci_low('cuped_absolute_effect', 'cuped_se') }} as cuped_ci_low,
        {{ ci_high('cuped_absolute_effect', 'cuped_se') }} as cuped_ci_high,
        cuped_p_value,
        variance_reduction,
        coalesce(p_value_adjusted < 0.05, false) as is_significant,
        {{ as_of() }} as computed_at,
        has_srm,
        {{ sequential_halfwidth(
            'relative_se', 'n_control + n_treatment', experiment_alpha(), experiment_sequential_tuning()
        ) }} as seq_halfwidth
    from flagged
),

sequential as (
    select
        *,
        relative_lift - seq_halfwidth as seq_ci_low,
        relative_lift + seq_halfwidth as seq_ci_high
    from intervals
),

final as (
    select
        experiment_key,
        metric_key,
        metric_role,
        variant_key,
        control_variant_key,
        n_control,
        n_treatment,
        mean_control,
        mean_treatment,
        var_control,
        var_treatment,
        absolute_effect,
        absolute_se,
        absolute_ci_low,
        absolute_ci_high,
        relative_lift,
        relative_se,
        relative_ci_low,
        relative_ci_high,
        z_statistic,
        p_value,
        p_value_adjusted,
        cuped_theta,
        cuped_absolute_effect,
        cuped_se,
        cuped_ci_low,
        cuped_ci_high,
        cuped_p_value,
        variance_reduction,
        is_significant,
        computed_at,
        has_srm,
        seq_ci_low,
        seq_ci_high,
        coalesce(seq_ci_low > 0 or seq_ci_high < 0, false) as seq_is_significant
    from sequential
)

select * from final
