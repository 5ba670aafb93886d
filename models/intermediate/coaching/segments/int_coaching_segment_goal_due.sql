-- Segment goal_due: an active goal (int_coaching_goals_active) whose target date falls
-- within the next 7 days (0 to 7 days from the build's date). A goal about a course targets that
-- course; a goal without a course (weekly_hours, career, skill) targets the learner's eligible
-- course touched most recently (ties: lowest course_id). One row per learner x course: the
-- earliest-due goal when several apply.
with

goals as (
    select * from {{ ref('int_coaching_goals_active') }}
),

enrollments as (
    select * from {{ ref('int_coaching_enrollments_eligible') }}
),

due_goals as (
    select
        goal_id,
        learner_id,
        course_id,
        goal_type,
        target_date,
        days_to_target
    from goals
    where target_date between {{ as_of_date() }} and {{ as_of_date() }} + 7
),

most_recent_course as (
    select
        learner_id,
        course_id,
        row_number() over (
            partition by learner_id
            order by greatest(enrolled_at, last_activity_at) desc, course_id asc
        ) as recency_rank
    from enrollments
),

goal_courses as (
    select
        due_goals.goal_id,
        due_goals.learner_id,
        coalesce(due_goals.course_id, most_recent_course.course_id) as course_id,
        due_goals.goal_type,
        due_goals.days_to_target
    from due_goals
    left join most_recent_course
        on
            due_goals.learner_id = most_recent_course.learner_id
            and due_goals.course_id is null
            and most_recent_course.recency_rank = 1
),

ranked as (
    select
        goal_courses.learner_id,
        goal_courses.course_id,
        goal_courses.goal_type,
        goal_courses.days_to_target,
        row_number() over (
            partition by goal_courses.learner_id, goal_courses.course_id
            order by goal_courses.days_to_target asc, goal_courses.goal_id asc
        ) as due_rank
    from goal_courses
    inner join enrollments
        on
            goal_courses.learner_id = enrollments.learner_id
            and goal_courses.course_id = enrollments.course_id
),

segment as (
    select
        learner_id,
        course_id,
        goal_type || ' goal due in ' || days_to_target || ' days' as reason_detail
    from ranked
    where due_rank = 1
)

select * from segment
