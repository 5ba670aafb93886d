-- Every raw course × skill row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('platform', 'course_skills') }}
),

known_courses as (
    select distinct course_id from {{ source('platform', 'courses') }}
),

skills as (
    select skill_id from {{ ref('skills') }}
),

renamed as (
    select
        source.course_id,
        source.skill_id,
        cast(source.weight as numeric) as weight,
        known_courses.course_id is null as is_orphan_course,
        skills.skill_id is null as is_unknown_skill,
        row_number() over (
            partition by source.course_id, source.skill_id order by row(source.*)
        ) as version_rank
    from source
    left join known_courses on source.course_id = known_courses.course_id
    left join skills on source.skill_id = skills.skill_id
),

checked as (
    select
        course_id,
        skill_id,
        weight,
        case
            when course_id is null or skill_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_course then 'orphan_course'
            when is_unknown_skill then 'unknown_skill'
            when weight is null or weight <= 0 or weight > 1 then 'out_of_range'
        end as quarantine_reason
    from renamed
)

select * from checked
