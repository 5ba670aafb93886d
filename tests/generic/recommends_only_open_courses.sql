{#
    A recommendation list never holds a course the learner is enrolled in or has completed
    (fct_course_progress: is_enrolled or completed_at set), nor a retired course (dim_courses).
    Fails on every such row. Put it on a model with learner_id and course_id columns.
#}
{% test recommends_only_open_courses(model, learner_column='learner_id', course_column='course_id') %}

with

progress as (
    select * from {{ ref('fct_course_progress') }}
),

courses as (
    select * from {{ ref('dim_courses') }}
),

offending as (
    select
        tested.{{ learner_column }} as learner_id,
        tested.{{ course_column }} as course_id,
        case
            when courses.course_id is null then 'unknown course'
            when courses.is_retired then 'retired course'
            when progress.completed_at is not null then 'completed course'
            else 'enrolled course'
        end as problem
    from {{ model }} as tested
    left join courses on tested.{{ course_column }} = courses.course_id
    left join progress
        on
            tested.{{ learner_column }} = progress.learner_id
            and tested.{{ course_column }} = progress.course_id
    where
        courses.course_id is null
        or courses.is_retired
        or progress.is_enrolled
        or progress.completed_at is not null
)

select * from offending

{% endtest %}
