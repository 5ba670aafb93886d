-- A learner's courses and progress, as the learner profile service reads it (core marts only).
-- dbt compile -s learner_progress_lookup --vars '{learner_id: 42}'
with

progress as (
    select * from {{ ref('fct_course_progress') }}
),

courses as (
    select * from {{ ref('dim_courses') }}
),

final as (
    select
        progress.course_id,
        courses.title,
        progress.enrolled_at,
        progress.items_completed,
        progress.items_total,
        progress.pct_complete,
        progress.completed_at,
        progress.is_enrolled
    from progress
    inner join courses on progress.course_id = courses.course_id
    where progress.learner_id = {{ var('learner_id', 1) }}
)

select * from final
order by enrolled_at desc, course_id asc
