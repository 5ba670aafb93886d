-- Rule: no coaching message for a learner in the coaching holdout (recomputed from the learner id
-- with the macro, not read from int_coaching_holdout). Fails on every such target row.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

violations as (
    select
        target_date,
        learner_id,
        message_key
    from targets
    where {{ in_coaching_holdout('learner_id') }}
)

select * from violations
