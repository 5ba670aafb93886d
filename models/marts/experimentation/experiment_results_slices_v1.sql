-- One row per experiment × metric × treatment variant × pre-registered dimension × value: the
-- exploratory slice results computed in int_experiment_results_slices. The contract fixes the
-- columns.
with

slices as (
    select * from {{ ref('int_experiment_results_slices') }}
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
        relative_ci_low,
        relative_ci_high,
        p_value,
        p_value_adjusted,
        is_significant,
        is_exploratory
    from slices
)

select * from final
