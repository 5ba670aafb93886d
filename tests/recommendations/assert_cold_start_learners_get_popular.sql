-- Cold start: every learner who can be recommended to and has no history (no course view, no
-- enrolment) has a `popular` list. Fails on each such learner without one.
with

recommendations as (
    select * from {{ ref('course_recommendations') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

course_activity as (
    -- events aggregated per learner × course once (core): a scan of every event costs minutes at scale
    select * from {{ ref('int_learner_course_activity_aggregated') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

with_history as (
    select learner_id from course_activity
    where first_viewed_at is not null
    union
    select learner_id from enrollments
),

popular_learners as (
    select distinct learner_id from recommendations
    where module = 'popular'
),

cold_start as (
    select learners.learner_id
    from learners
    left join with_history on learners.learner_id = with_history.learner_id
    where not learners.is_deleted and with_history.learner_id is null
)

select cold_start.learner_id
from cold_start
left join popular_learners on cold_start.learner_id = popular_learners.learner_id
where popular_learners.learner_id is null
