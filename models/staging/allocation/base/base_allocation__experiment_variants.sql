-- Every raw experiment variant row with the reason it is quarantined (null = valid).
-- A variant delivered twice: the copies are ranked by their columns (no version column), the first
-- staged. Then the rules of the set: an experiment's staged variants have exactly one control and
-- weights summing to 1, or all of them are quarantined (its assignments then have no variant).
with

source as (
    select * from {{ source('allocation', 'experiment_variants') }}
),

experiments as (
    select * from {{ ref('stg_allocation__experiments') }}
),

renamed as (
    select
        trim(experiment_key) as experiment_key,
        trim(variant_key) as variant_key,
        is_control,
        cast(planned_weight as numeric) as planned_weight
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when
                renamed.experiment_key is null or renamed.experiment_key = ''
                or renamed.variant_key is null or renamed.variant_key = ''
                then 'missing_key'
            when experiments.experiment_key is null then 'orphan_experiment'
            when renamed.is_control is null or renamed.planned_weight is null then 'missing_value'
            when renamed.planned_weight <= 0 or renamed.planned_weight > 1 then 'out_of_range'
        end as row_reason
    from renamed
    left join experiments on renamed.experiment_key = experiments.experiment_key
),

ranked as (
    {{ ranked_copies('row_checked', ['experiment_key', 'variant_key'], [
        'is_control desc', 'planned_weight desc',
    ]) }}
),

versioned as (
    select
        experiment_key,
        variant_key,
        is_control,
        planned_weight,
        {{ version_reason() }} as version_reason
    from ranked
),

experiment_sets as (
    -- the variants each experiment would stage
    select
        experiment_key,
        sum(case when is_control then 1 else 0 end) as n_controls,
        sum(planned_weight) as total_weight
    from versioned
    where version_reason is null
    group by experiment_key
),

checked as (
    select
        versioned.experiment_key,
        versioned.variant_key,
        versioned.is_control,
        versioned.planned_weight,
        case
            when versioned.version_reason is not null then versioned.version_reason
            when experiment_sets.n_controls != 1 then 'not_one_control'
            when abs(experiment_sets.total_weight - 1) > 0.001 then 'weights_not_summing_to_one'
        end as quarantine_reason
    from versioned
    left join experiment_sets on versioned.experiment_key = experiment_sets.experiment_key
)

select * from checked
