-- Every raw course row, cast and renamed, with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('platform', 'courses') }}
),

renamed as (
    select
        course_id,
        trim(slug) as slug,
        trim(title) as title,
        lower(trim(domain)) as domain,
        lower(trim(difficulty)) as difficulty,
        launched_at,
        retired_at,
        retired_at is not null as is_retired,
        row_number() over (partition by course_id order by source) as version_rank
    from source
),

checked as (
    select
        *,
        case
            when course_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when difficulty not in ('beginner', 'intermediate', 'advanced') then 'invalid_difficulty'
            when slug is null then 'missing_slug'
        end as quarantine_reason
    from renamed
)

select * from checked
