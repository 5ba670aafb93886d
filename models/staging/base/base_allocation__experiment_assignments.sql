-- Every raw assignment log line with the reason it is quarantined (null = valid).
-- A repeated log line (same experiment, variant and learner) is a duplicate; the earliest stays.
-- A learner logged in two variants is NOT quarantined here: both lines are valid log lines, and
-- the experimentation marts exclude and count such contaminated learners.
with

source as (
    select * from {{ source('allocation', 'experiment_assignments') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

known_variants as (
    select distinct
        experiment_key,
        variant_key
    from {{ source('allocation', 'experiment_variants') }}
),

renamed as (
    select
        trim(source.experiment_key) as experiment_key,
        trim(source.variant_key) as variant_key,
        source.learner_id,
        source.assigned_at,
        known_learners.learner_id is null as is_orphan_learner,
        known_variants.variant_key is null as is_unknown_variant,
        row_number() over (
            partition by trim(source.experiment_key), trim(source.variant_key), source.learner_id
            order by source.assigned_at, row(source.*)
        ) as log_line_number
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
    left join known_variants
        on
            source.experiment_key = known_variants.experiment_key
            and source.variant_key = known_variants.variant_key
),

checked as (
    select
        experiment_key,
        variant_key,
        learner_id,
        assigned_at,
        log_line_number,
        case
            when experiment_key is null or variant_key is null or learner_id is null then 'missing_key'
            when log_line_number > 1 then 'duplicate_log_line'
            when is_orphan_learner then 'orphan_learner'
            when is_unknown_variant then 'unknown_variant'
            when assigned_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
)

select * from checked
