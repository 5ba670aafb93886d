-- Every raw course row, cast and renamed, with the reason it is quarantined (null = valid).
-- A course delivered twice: the latest state wins (a retired copy over a live one, then the later
-- launch), ties broken by the other columns.
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
        retired_at is not null as is_retired
    from source
),

row_checked as (
    select
        *,
        case
            when course_id is null then 'missing_key'
            when course_id < 1 then 'out_of_range'
            when slug is null or slug = '' then 'missing_value'
            when launched_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['launched_at', 'retired_at']) }}
            when retired_at < launched_at then 'inconsistent_timestamps'
            when difficulty is null or difficulty not in ('beginner', 'intermediate', 'advanced')
                then 'invalid_difficulty'
        end as row_reason
    from renamed
),

ranked as (
    {{ ranked_copies('row_checked', ['course_id'], [
        'retired_at desc nulls last', 'launched_at desc', 'slug asc', 'title asc', 'domain asc',
        'difficulty asc',
    ]) }}
),

checked as (
    select
        course_id,
        slug,
        title,
        domain,
        difficulty,
        launched_at,
        retired_at,
        is_retired,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
