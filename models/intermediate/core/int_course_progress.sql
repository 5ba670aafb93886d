-- One row per learner × course the learner enrolled in (latest enrolment), with progress through
-- the course's items. Items completed count whenever they were completed (progress survives a
-- re-enrolment). Deleted learners are excluded. Published as fct_course_progress; coaching reads
-- it to find the enrolments it may message about.
with

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

enrollments as (
    select * from {{ ref('int_enrollments_latest') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

course_completions as (
    select * from {{ ref('int_course_completions_aggregated') }}
),

activity as (
    select * from {{ ref('int_learner_course_activity_aggregated') }}
),

item_counts as (
    select
        course_id,
        count(*) as n_items
    from items
    group by course_id
),

course_sizes as (
    select
        courses.course_id,
        cast(coalesce(item_counts.n_items, 0) as integer) as n_items
    from courses
    left join item_counts on courses.course_id = item_counts.course_id
),

final as (
    select
        enrollments.learner_id,
        enrollments.course_id,
        enrollments.enrolled_at,
        cast(coalesce(course_completions.items_completed, 0) as integer) as items_completed,
        course_sizes.n_items as items_total,
        cast(
            case
                when course_sizes.n_items > 0
                    then round(
                        cast(coalesce(course_completions.items_completed, 0) as numeric) / course_sizes.n_items, 4
                    )
                else 0
            end as numeric(5, 4)
        ) as pct_complete,
        case
            when course_sizes.n_items > 0 and course_completions.items_completed >= course_sizes.n_items
                then course_completions.last_item_completed_at
        end as completed_at,
        activity.last_activity_at,
        enrollments.is_enrolled
    from enrollments
    inner join learners on enrollments.learner_id = learners.learner_id
    inner join course_sizes on enrollments.course_id = course_sizes.course_id
    left join course_completions
        on
            enrollments.learner_id = course_completions.learner_id
            and enrollments.course_id = course_completions.course_id
    left join activity
        on
            enrollments.learner_id = activity.learner_id
            and enrollments.course_id = activity.course_id
    where not learners.is_deleted
)

select * from final
