-- Every raw assignment log line with the reason it is quarantined (null = valid).
-- A repeated log line (same experiment, variant and learner) is a duplicate: the earliest valid line
-- stays, as the assignment happened when it was first logged. A learner logged in two variants is NOT
-- quarantined here: both lines are valid log lines, and the experimentation marts exclude and count
-- such contaminated learners.
with

source as (
    select * from {{ source('allocation', 'experiment_assignments') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

variants as (
    select * from {{ ref('stg_allocation__experiment_variants') }}
),

experiments as (
    select * from {{ ref('stg_allocation__experiments') }}
),

renamed as (
    select
        trim(experiment_key) as experiment_key,
        trim(variant_key) as variant_key,
        learner_id,
        assigned_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.experiment_key is null or renamed.variant_key is null or renamed.learner_id is null
                then 'missing_key'
            when learners.learner_id is null then 'orphan_learner'
            when variants.variant_key is null then 'unknown_variant'
            when renamed.assigned_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.assigned_at']) }}
            when
                renamed.assigned_at < experiments.started_at or renamed.assigned_at > experiments.ended_at
                then 'outside_experiment_window'
            {{ before_signup('renamed.assigned_at') }}
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join variants
        on
            renamed.experiment_key = variants.experiment_key
            and renamed.variant_key = variants.variant_key
    left join experiments on renamed.experiment_key = experiments.experiment_key
),

ranked as (
    select
        *,
        row_number() over (
            partition by experiment_key, variant_key, learner_id, row_reason is null
            order by assigned_at
        ) as log_line_number
    from row_checked
),

checked as (
    select
        experiment_key,
        variant_key,
        learner_id,
        assigned_at,
        coalesce(row_reason, case when log_line_number > 1 then 'duplicate_log_line' end) as quarantine_reason
    from ranked
)

select * from checked
