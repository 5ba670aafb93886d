-- Every raw experiment row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('allocation', 'experiments') }}
),

renamed as (
    select
        trim(experiment_key) as experiment_key,
        description as experiment_description,
        owner as experiment_owner,
        started_at,
        ended_at,
        row_number() over (
            partition by trim(experiment_key) order by source
        ) as version_rank
    from source
),

checked as (
    select
        experiment_key,
        experiment_description,
        experiment_owner,
        started_at,
        ended_at,
        case
            when experiment_key is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when started_at is null then 'missing_timestamp'
            when ended_at < started_at then 'inconsistent_timestamps'
        end as quarantine_reason
    from renamed
)

select * from checked
