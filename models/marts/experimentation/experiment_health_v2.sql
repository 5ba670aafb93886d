-- One row per experiment × variant: the columns of v1 (assignment counts and the sample-ratio
-- mismatch test) and the power of the experiment's primary metric at the current sample (the
-- minimum detectable lift and the days of enrolment to the planned power), computed in
-- int_experiment_variant_power. The contract fixes the columns.
with

variant_power as (
    select * from {{ ref('int_experiment_variant_power') }}
),

final as (
    select
        experiment_key,
        variant_key,
        is_control,
        planned_weight,
        n_assigned,
        n_contaminated,
        n_expected,
        srm_chi2,
        srm_p_value,
        has_srm,
        primary_metric_key,
        alpha,
        power,
        target_lift,
        mde_relative,
        daily_enrolments,
        days_to_planned_power
    from variant_power
)

select * from final
