-- Every raw course item row, cast and renamed, with the reason it is quarantined (null = valid).
-- Referential check against raw.courses: a quarantine decision has to be made before staging.
with

source as (
    select * from {{ source('platform', 'course_items') }}
),

known_courses as (
    select distinct course_id from {{ source('platform', 'courses') }}
),

renamed as (
    select
        source.item_id,
        source.course_id,
        source.module_index,
        source.item_index,
        lower(source.item_type) as item_type,
        coalesce(source.is_graded, false) as is_graded,
        source.estimated_minutes,
        known_courses.course_id is null as is_orphan_course,
        row_number() over (
            partition by source.item_id order by row(source.*)
        ) as version_rank
    from source
    left join known_courses on source.course_id = known_courses.course_id
),

checked as (
    select
        item_id,
        course_id,
        module_index,
        item_index,
        item_type,
        is_graded,
        estimated_minutes,
        case
            when item_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_course then 'orphan_course'
            when item_type not in ('lecture', 'reading', 'quiz', 'assignment') then 'invalid_item_type'
            when estimated_minutes < 0 then 'out_of_range'
        end as quarantine_reason
    from renamed
)

select * from checked
