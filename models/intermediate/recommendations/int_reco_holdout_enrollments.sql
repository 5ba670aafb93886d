-- One row per learner × course of the offline evaluation's ground truth: a learner who could be
-- recommended in the `holdout` run and is not deleted enrolled in the course between the cutoff
-- and as_of, and was neither enrolled in it nor had completed it at the cutoff
-- (int_reco_exclusions).

with

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

learners as (
    select * from {{ ref('int_reco_learners') }}
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
),

holdout as (
    select * from runs
    where run_key = 'holdout'
),

final as (
    select
        enrollments.learner_id,
        enrollments.course_id,
        min(enrollments.enrolled_at) as first_enrolled_at
    from enrollments
    inner join holdout
        on
            enrollments.enrolled_at >= holdout.cutoff_at
            and enrollments.enrolled_at < {{ as_of() }}
    inner join learners
        on
            holdout.run_key = learners.run_key
            and enrollments.learner_id = learners.learner_id
    -- and not deleted since: the hold-out run keeps a learner deleted after its cutoff
    -- (int_reco_learners), the evaluation does not
    inner join learners as current_learners
        on
            current_learners.run_key = 'live'
            and enrollments.learner_id = current_learners.learner_id
    left join exclusions
        on
            holdout.run_key = exclusions.run_key
            and enrollments.learner_id = exclusions.learner_id
            and enrollments.course_id = exclusions.course_id
    where exclusions.course_id is null
    group by enrollments.learner_id, enrollments.course_id
)

select * from final
