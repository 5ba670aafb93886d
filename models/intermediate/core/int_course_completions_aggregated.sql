-- One row per learner × course with a completed item: how many of the course's items the learner
-- completed and when the last of them was first completed. A course is complete for the learner
-- when items_completed reaches its item count, at last_item_completed_at: progress
-- (fct_course_progress) and recommendation exclusions (at any run horizon) read it once.
with

completions as (
    select * from {{ ref('int_item_completions_aggregated') }}
),

aggregated as (
    select
        learner_id,
        course_id,
        count(*) as items_completed,
        max(first_completed_at) as last_item_completed_at
    from completions
    group by learner_id, course_id
)

select * from aggregated
