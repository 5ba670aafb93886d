-- Rule: at most 3 messages per learner in the rolling 7 days (UTC days D-6..D) ending on the
-- target date, counting the messages already sent with the send list. Fails on every target row
-- that would make a 4th.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

sent_messages as (
    select * from {{ ref('stg_coach__messages') }}
),

sent_in_window as (
    select
        targets.target_date,
        targets.learner_id,
        targets.message_key,
        count(sent_messages.message_id) as n_already_sent
    from targets
    left join sent_messages
        on
            targets.learner_id = sent_messages.learner_id
            and cast(sent_messages.sent_at at time zone 'UTC' as date)
            between targets.target_date - 6 and targets.target_date
    group by targets.target_date, targets.learner_id, targets.message_key
),

violations as (
    select *
    from sent_in_window
    where n_already_sent + 1 > 3
)

select * from violations
