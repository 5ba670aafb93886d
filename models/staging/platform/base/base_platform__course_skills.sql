-- Every raw course × skill row with the reason it is quarantined (null = valid).
-- A pair delivered twice: the higher weight is staged, the other copy superseded.
with

source as (
    select * from {{ source('platform', 'course_skills') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

skills as (
    select skill_id from {{ ref('skills') }}
),

renamed as (
    select
        course_id,
        skill_id,
        cast(weight as numeric) as weight
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.course_id is null or renamed.skill_id is null then 'missing_key'
            when courses.course_id is null then 'orphan_course'
            when skills.skill_id is null then 'unknown_skill'
            when renamed.weight is null then 'missing_value'
            when renamed.weight <= 0 or renamed.weight > 1 then 'out_of_range'
        end as row_reason
    from renamed
    left join courses on renamed.course_id = courses.course_id
    left join skills on renamed.skill_id = skills.skill_id
),

ranked as (
    {{ ranked_copies('row_checked', ['course_id', 'skill_id'], [
        'weight desc',
    ]) }}
),

checked as (
    select
        course_id,
        skill_id,
        weight,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
