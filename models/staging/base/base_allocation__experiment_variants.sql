-- Every raw experiment variant row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('allocation', 'experiment_variants') }}
),

renamed as (
    select
        trim(experiment_key) as experiment_key,
        trim(variant_key) as variant_key,
        coalesce(is_control, false) as is_control,
        cast(planned_weight as numeric) as planned_weight,
        row_number() over (
            partition by trim(experiment_key), trim(variant_key) order by source
        ) as version_rank
    from source
),

checked as (
    select
        experiment_key,
        variant_key,
        is_control,
        planned_weight,
        case
            when experiment_key is null or variant_key is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when planned_weight is null or planned_weight <= 0 or planned_weight > 1 then 'out_of_range'
        end as quarantine_reason
    from renamed
)

select * from checked
