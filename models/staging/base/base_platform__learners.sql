-- Every raw learner row, cast and renamed, PII dropped, with the reason it is quarantined (null = valid).
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
        coalesce(is_deleted, false) as is_deleted,
        row_number() over (
            partition by learner_id
            order by updated_at desc nulls last, source asc
        ) as version_rank
    from source
),

checked as (
    select
        *,
        case
            when learner_id is null then 'missing_key'
            when version_rank > 1 then 'stale_duplicate'
            when signed_up_at is null then 'missing_timestamp'
            when country_code !~ '^[A-Z]{2}$' then 'invalid_country_code'
        end as quarantine_reason
    from renamed
)

select * from checked
