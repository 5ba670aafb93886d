-- Rule: the same message_key never goes to the same learner again within 14 days (UTC days
-- D-13..D). Fails on every target row whose key the learner already got in that window.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

sent_messages as (
    select * from {{ ref('stg_coach__messages') }}
),

violations as (
    select
        targets.target_date,
        targets.learner_id,
        targets.message_key,
        sent_messages.message_id as repeated_message_id,
        sent_messages.sent_at as repeated_sent_at
    from targets
    inner join sent_messages
        on
            targets.learner_id = sent_messages.learner_id
            and targets.message_key = sent_messages.message_key
            and cast(sent_messages.sent_at at time zone 'UTC' as date)
            between targets.target_date - 13 and targets.target_date
)

select * from violations
