-- Every raw course item row, cast and renamed, with the reason it is quarantined (null = valid).
-- An item delivered twice: the copies are ranked by their columns (no version column), the first staged.
with

source as (
    select * from {{ source('platform', 'course_items') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

renamed as (
    select
        item_id,
        course_id,
        module_index,
        item_index,
        lower(item_type) as item_type,
        is_graded,
        estimated_minutes
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.item_id is null then 'missing_key'
            when renamed.item_id < 1 then 'out_of_range'
            when courses.course_id is null then 'orphan_course'
            when
                renamed.item_type is null or renamed.item_type not in ('lecture', 'reading', 'quiz', 'assignment')
                then 'invalid_item_type'
            when
                renamed.is_graded is null or renamed.module_index is null or renamed.item_index is null
                or renamed.estimated_minutes is null
                then 'missing_value'
            {{ implausible_integers(['renamed.module_index', 'renamed.item_index', 'renamed.estimated_minutes']) }}
        end as row_reason
    from renamed
    left join courses on renamed.course_id = courses.course_id
),

ranked as (
    {{ ranked_copies('row_checked', ['item_id'], [
        'course_id asc', 'module_index asc', 'item_index asc', 'item_type asc', 'is_graded asc',
        'estimated_minutes asc',
    ]) }}
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
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
