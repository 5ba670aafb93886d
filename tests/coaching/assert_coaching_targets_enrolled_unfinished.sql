-- Rule: nothing for a course the learner is not (or no longer) enrolled in, or has finished
-- (100% complete), and nothing for deleted learners (fct_course_progress excludes them; the
-- not_deleted_learner test checks it too). Fails on every such target row.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

progress as (
    select * from {{ ref('fct_course_progress') }}
),

violations as (
    select
        targets.target_date,
        targets.learner_id,
        targets.course_id,
        targets.message_key,
        case
            when progress.learner_id is null then 'not enrolled (or deleted learner)'
            when not progress.is_enrolled then 'unenrolled'
            else 'finished'
        end as problem
    from targets
    left join progress
        on
            targets.learner_id = progress.learner_id
            and targets.course_id = progress.course_id
    where
        progress.learner_id is null
        or not progress.is_enrolled
        or progress.completed_at is not null
        or progress.pct_complete >= 1
)

select * from violations
