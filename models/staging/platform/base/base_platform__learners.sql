-- Every raw learner row, cast and renamed, PII dropped, with the reason it is quarantined (null = valid).
-- The account is updated in place: the valid row with the latest updated_at is the learner's current
-- state, older valid rows are superseded, and a bad new row is quarantined alone (the last valid
-- version stands). A deletion request in any row of the learner holds: deletion is never undone.
with

source as (
    select * from {{ source('platform', 'learners') }}
),

renamed as (
    select
        learner_id,
        upper(nullif(trim(country_code), '')) as country_code,
        nullif(trim(occupation), '') as occupation,
        signed_up_at,
        updated_at,
        is_deleted,
        max(case when is_deleted then 1 else 0 end) over (partition by learner_id) = 1 as is_deletion_requested
    from source
),

row_checked as (
    select
        *,
        case
            when learner_id is null then 'missing_key'
            when learner_id < 1 then 'out_of_range'
            when signed_up_at is null or updated_at is null then 'missing_timestamp'
            when is_deleted is null then 'missing_value'
            {{ implausible_timestamps(['signed_up_at', 'updated_at']) }}
            when updated_at < signed_up_at then 'inconsistent_timestamps'
            when country_code !~ '^[A-Z]{2}$' then 'invalid_country_code'
        end as row_reason
    from renamed
),

ranked as (
    {{ ranked_copies('row_checked', ['learner_id'], [
        'updated_at desc', 'signed_up_at desc', 'country_code asc', 'occupation asc', 'is_deleted asc',
    ]) }}
),

checked as (
    select
        learner_id,
        country_code,
        occupation,
        signed_up_at,
        updated_at,
        is_deletion_requested as is_deleted,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
