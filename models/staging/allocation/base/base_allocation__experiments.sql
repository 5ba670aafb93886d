-- Every raw experiment row with the reason it is quarantined (null = valid).
-- An experiment delivered twice: the latest state wins (an ended copy over a running one, then the
-- later end and start), ties broken by the other columns.
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
        ended_at
    from source
),

row_checked as (
    select
        *,
        case
            when experiment_key is null or experiment_key = '' then 'missing_key'
            when started_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['started_at', 'ended_at']) }}
            when ended_at < started_at then 'inconsistent_timestamps'
        end as row_reason
    from renamed
),

ranked as (
    {{ ranked_copies('row_checked', ['experiment_key'], [
        'ended_at desc nulls last', 'started_at desc', 'experiment_description asc', 'experiment_owner asc',
    ]) }}
),

checked as (
    select
        experiment_key,
        experiment_description,
        experiment_owner,
        started_at,
        ended_at,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
