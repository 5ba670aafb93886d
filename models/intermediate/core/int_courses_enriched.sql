-- One row per course of the catalogue, live or retired, with its item counts and taught skills
-- (ids and names, in the same order): what dim_courses publishes. A view, as the mart is its only
-- reader and materializes it.
{{ config(materialized='view') }}

with

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

course_skills as (
    select * from {{ ref('stg_platform__course_skills') }}
),

skills as (
    select * from {{ ref('skills') }}
),

item_counts as (
    select
        course_id,
        count(*) as n_items,
        count(*) filter (where is_graded) as n_graded_items
    from items
    group by course_id
),

skill_lists as (
    select
        course_skills.course_id,
        array_agg(course_skills.skill_id order by course_skills.weight desc, course_skills.skill_id asc) as skills,
        array_agg(skills.skill_name order by course_skills.weight desc, course_skills.skill_id asc) as skill_names
    from course_skills
    inner join skills on course_skills.skill_id = skills.skill_id
    group by course_skills.course_id
),

final as (
    select
        courses.course_id,
        courses.slug,
        courses.title,
        courses.domain,
        courses.difficulty,
        courses.launched_at,
        courses.is_retired,
        cast(coalesce(item_counts.n_items, 0) as integer) as n_items,
        cast(coalesce(item_counts.n_graded_items, 0) as integer) as n_graded_items,
        coalesce(skill_lists.skills, cast(array[] as integer[])) as skills,
        coalesce(skill_lists.skill_names, cast(array[] as text[])) as skill_names
    from courses
    left join item_counts on courses.course_id = item_counts.course_id
    left join skill_lists on courses.course_id = skill_lists.course_id
)

select * from final
