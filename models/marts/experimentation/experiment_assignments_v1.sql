-- One row per experiment × learner with a clean assignment: contaminated learners (logged in 2+
-- variants of the experiment) and deleted learners are excluded.
with

assignments as (
    select * from {{ ref('int_experiment_assignments_classified') }}
),

final as (
    select
        experiment_key,
        learner_id,
        variant_key,
        is_control,
        assigned_at
    from assignments
    where is_clean
)

select * from final
