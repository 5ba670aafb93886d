-- One row per experiment × learner × variant the allocation engine logged (repeated log lines are
-- already quarantined by staging), classified: contaminated (the learner was logged in 2+ variants
-- of the experiment), deleted learner, and clean (neither: the assignments every analysis reads).
with

assignments as (
    select * from {{ ref('stg_allocation__experiment_assignments') }}
),

variants as (
    select * from {{ ref('stg_allocation__experiment_variants') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

logged as (
    select
        assignments.experiment_key,
        assignments.learner_id,
        assignments.variant_key,
        variants.is_control,
        variants.planned_weight,
        assignments.assigned_at,
        count(*) over (
            partition by assignments.experiment_key, assignments.learner_id
        ) as n_variants_logged,
        coalesce(learners.is_deleted, true) as is_deleted_learner
    from assignments
    inner join variants
        on
            assignments.experiment_key = variants.experiment_key
            and assignments.variant_key = variants.variant_key
    left join learners on assignments.learner_id = learners.learner_id
),

final as (
    select
        experiment_key,
        learner_id,
        variant_key,
        is_control,
        planned_weight,
        assigned_at,
        n_variants_logged > 1 as is_contaminated,
        is_deleted_learner,
        n_variants_logged = 1 and not is_deleted_learner as is_clean
    from logged
)

select * from final
