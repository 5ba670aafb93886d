-- One row per experiment × variant: clean and contaminated assignment counts and the sample-ratio
-- mismatch test (chi-square goodness of fit of the clean counts against the planned weights),
-- computed in int_experiment_variant_health (experiment_results reads its verdict there). The
-- contract fixes the columns.
with

health as (
    select * from {{ ref('int_experiment_variant_health') }}
)

select * from health
