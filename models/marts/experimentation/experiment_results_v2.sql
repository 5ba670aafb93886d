-- One row per experiment × metric × treatment variant compared with the control: the columns of
-- v1 and the always-valid (sequential) interval of the relative lift with its verdict, computed
-- in int_experiment_results. The contract fixes the columns.
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
        has_srm,
        seq_ci_low,
        seq_ci_high,
        seq_is_significant
    from results
)

select * from final
