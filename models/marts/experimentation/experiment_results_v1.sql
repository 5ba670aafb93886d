-- One row per experiment × metric × treatment variant compared with the control: the statistics
-- computed in int_experiment_results (Welch z-test, relative lift, CUPED, Benjamini-Hochberg,
-- has_srm). v1 publishes them without the always-valid interval (v2 adds it); the contract fixes
-- the columns.
with

results as (
    select * from {{ ref('int_experiment_results') }}
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
        has_srm
    from results
)

select * from final
