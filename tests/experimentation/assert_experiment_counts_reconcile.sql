-- experiment_health counts the clean assignments of experiment_assignments, variant by variant.
with

health as (
    select * from {{ ref('experiment_health') }}
),

assignments as (
    select * from {{ ref('experiment_assignments') }}
),

counted as (
    select
        experiment_key,
        variant_key,
        count(*) as n_assigned
    from assignments
    group by experiment_key, variant_key
),

mismatches as (
    select
        health.experiment_key,
        health.variant_key,
        health.n_assigned,
        counted.n_assigned as n_in_assignments
    from health
    left join counted
        on
            health.experiment_key = counted.experiment_key
            and health.variant_key = counted.variant_key
    where health.n_assigned != coalesce(counted.n_assigned, 0)
)

select * from mismatches
