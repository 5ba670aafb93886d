-- One row per experiment × variant: clean and contaminated assignment counts and the sample-ratio
-- mismatch test (chi-square goodness of fit of the clean counts against the planned weights).
-- What experiment_health publishes, and the verdict experiment_results carries.
with

variants as (
    select * from {{ ref('stg_allocation__experiment_variants') }}
),

assignments as (
    select * from {{ ref('int_experiment_assignments_classified') }}
),

counts as (
    select
        experiment_key,
        variant_key,
        count(case when not is_contaminated then 1 end) as n_assigned,
        count(case when is_contaminated then 1 end) as n_contaminated
    from assignments
    where not is_deleted_learner
    group by experiment_key, variant_key
),

expected as (
    select
        variants.experiment_key,
        variants.variant_key,
        variants.is_control,
        cast(variants.planned_weight as double precision) as planned_weight,
        coalesce(counts.n_assigned, 0) as n_assigned,
        coalesce(counts.n_contaminated, 0) as n_contaminated,
        sum(coalesce(counts.n_assigned, 0)) over (partition by variants.experiment_key)
        * cast(variants.planned_weight as double precision)
        / sum(cast(variants.planned_weight as double precision)) over (partition by variants.experiment_key)
            as n_expected,
        count(*) over (partition by variants.experiment_key) as n_variants
    from variants
    left join counts
        on
            variants.experiment_key = counts.experiment_key
            and variants.variant_key = counts.variant_key
),

chi_square as (
    select
        *,
        sum((n_assigned - n_expected) * (n_assigned - n_expected) / nullif(n_expected, 0))
            over (partition by experiment_key)
            as srm_chi2
    from expected
),

tested as (
    select
        *,
        {{ chi2_sf('srm_chi2', 'n_variants - 1') }} as srm_p_value
    from chi_square
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
        coalesce(srm_p_value < 0.001, false) as has_srm
    from tested
)

select * from final
