-- One row per learner × course: the latest enrolment (a learner may re-enrol after leaving),
-- with the number of enrolments and the first enrolment time.
with

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by learner_id, course_id order by enrolled_at desc, enrollment_id desc
        ) as recency_rank,
        count(*) over (partition by learner_id, course_id) as n_enrollments,
        min(enrolled_at) over (partition by learner_id, course_id) as first_enrolled_at
    from enrollments
),

latest as (
    select
        enrollment_id,
        learner_id,
        course_id,
        enrolled_at,
        unenrolled_at,
        enrollment_source,
        unenrolled_at is null as is_enrolled,
        n_enrollments,
        first_enrolled_at
    from ranked
    where recency_rank = 1
)

select * from latest
