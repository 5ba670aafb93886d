-- One row per course of the catalogue, live or retired, with item counts and taught skills (ids and
-- names, in the same order). Computed in int_courses_enriched; the contract fixes the columns.
with

courses as (
    select * from {{ ref('int_courses_enriched') }}
),

final as (
    select
        course_id,
        slug,
        title,
        domain,
        difficulty,
        launched_at,
        is_retired,
        n_items,
        n_graded_items,
        skills,
        skill_names
    from courses
)

select * from final
