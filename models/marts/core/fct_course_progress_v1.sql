-- One row per learner × course the learner enrolled in (latest enrolment), with progress through
-- the course's items; deleted learners excluded. Computed in int_course_progress, which coaching
-- also reads. The contract fixes the columns.
with

progress as (
    select * from {{ ref('int_course_progress') }}
)

select * from progress
