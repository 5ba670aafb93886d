-- One row per experiment × metric × treatment variant × analysis date: the relative lift and its
-- always-valid interval as of the end of each date, computed in int_experiment_results_daily.
-- The contract fixes the columns.
with

results_daily as (
    select * from {{ ref('int_experiment_results_daily') }}
),

final as (
    select
        experiment_key,
        metric_key,
        variant_key,
        analysis_date,
        n_control,
        n_treatment,
        mean_control,
        mean_treatment,
        relative_lift,
        relative_se,
        relative_ci_low,
        relative_ci_high,
        seq_ci_low,
        seq_ci_high,
        seq_is_significant
    from results_daily
)

select * from final
