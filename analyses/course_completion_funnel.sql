-- Completion funnel by course domain and difficulty: enrolled, started, half way, completed.
with

progress as (
    select * from {{ ref('fct_course_progress') }}
),

courses as (
    select * from {{ ref('dim_courses') }}
),

funnel as (
    select
        courses.domain,
        courses.difficulty,
        count(*) as n_enrolled,
        count(*) filter (where progress.items_completed > 0) as n_started,
        count(*) filter (where progress.pct_complete >= 0.5) as n_half_way,
        count(*) filter (where progress.completed_at is not null) as n_completed
    from progress
    inner join courses on progress.course_id = courses.course_id
    group by courses.domain, courses.difficulty
)

select * from funnel
order by domain, difficulty
