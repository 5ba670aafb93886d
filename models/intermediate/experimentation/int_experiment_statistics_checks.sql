-- One row per known statistics case (seed experiment_statistics_cases, expected values from
-- scipy): every statistics macro applied to the case, with its largest relative error. Built and
-- tested on every run, so the macros are checked on whichever PostgreSQL version the build uses.
-- The cases give each arm as n, sum and sum of squares (the form published examples use); the
-- variance is derived from them here only, for these small known inputs.
with

cases as (
    select * from {{ ref('experiment_statistics_cases') }}
),

arms as (
    select
        case_id,
        cast(n_control as double precision) as n_control,
        cast(n_treatment as double precision) as n_treatment,
        cast(sum_control as double precision) / n_control as mean_control,
        cast(sum_treatment as double precision) / n_treatment as mean_treatment,
        (cast(sum_squares_control as double precision) - cast(sum_control as double precision) ^ 2 / n_control)
        / (n_control - 1) as var_control,
        (cast(sum_squares_treatment as double precision) - cast(sum_treatment as double precision) ^ 2 / n_treatment)
        / (n_treatment - 1) as var_treatment,
        cast(z as double precision) as z,
        cast(chi2 as double precision) as chi2,
        df,
        expected_difference,
        expected_se,
        expected_p_value,
        expected_relative_lift,
        expected_relative_se,
        expected_normal_sf,
        expected_normal_cdf,
        expected_chi2_sf,
        relative_tolerance
    from cases
),

computed as (
    select
        *,
        mean_treatment - mean_control as difference,
        {{ welch_se('var_treatment', 'n_treatment', 'var_control', 'n_control') }} as se,
        {{ relative_lift('mean_treatment', 'mean_control') }} as relative_lift,
        {{ relative_lift_se(
            'mean_treatment', 'sqrt(var_treatment / n_treatment)', 'mean_control', 'sqrt(var_control / n_control)'
        ) }} as relative_se,
        {{ normal_sf('z') }} as normal_sf,
        {{ normal_cdf('z') }} as normal_cdf,
        {{ chi2_sf('chi2', 'df') }} as chi2_sf
    from arms
),

with_p_values as (
    select
        *,
        {{ normal_two_sided_p(z_statistic('difference', 'se')) }} as p_value
    from computed
),

errors as (
    select
        *,
        greatest(
            abs(difference - expected_difference) / nullif(abs(expected_difference), 0),
            abs(se - expected_se) / nullif(abs(expected_se), 0),
            abs(p_value - expected_p_value) / nullif(abs(expected_p_value), 0),
            abs(relative_lift - expected_relative_lift) / nullif(abs(expected_relative_lift), 0),
            abs(relative_se - expected_relative_se) / nullif(abs(expected_relative_se), 0),
            abs(normal_sf - expected_normal_sf) / nullif(abs(expected_normal_sf), 0),
            abs(normal_cdf - expected_normal_cdf) / nullif(abs(expected_normal_cdf), 0),
            abs(chi2_sf - expected_chi2_sf) / nullif(abs(expected_chi2_sf), 0)
        ) as max_relative_error
    from with_p_values
),

final as (
    select
        case_id,
        difference,
        se,
        p_value,
        relative_lift,
        relative_se,
        normal_sf,
        normal_cdf,
        chi2_sf,
        max_relative_error,
        coalesce(max_relative_error <= relative_tolerance, false) as is_within_tolerance
    from errors
)

select * from final
