-- Rule: at most 1 message per learner per UTC day, counting the messages already sent that day
-- together with the send list. Fails on every target row whose learner would get 2+ that day.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

sent_messages as (
    select * from {{ ref('stg_coach__messages') }}
),

sent_on_target_day as (
    select
        targets.target_date,
        targets.learner_id,
        count(sent_messages.message_id) as n_already_sent
    from targets
    left join sent_messages
        on
            targets.learner_id = sent_messages.learner_id
            and cast(sent_messages.sent_at at time zone 'UTC' as date) = targets.target_date
    group by targets.target_date, targets.learner_id
),

targets_per_day as (
    select
        target_date,
        learner_id,
        count(*) as n_targets
    from targets
    group by target_date, learner_id
),

violations as (
    select
        targets_per_day.target_date,
        targets_per_day.learner_id,
        sent_on_target_day.n_already_sent,
        targets_per_day.n_targets
    from targets_per_day
    inner join sent_on_target_day
        on
            targets_per_day.target_date = sent_on_target_day.target_date
            and targets_per_day.learner_id = sent_on_target_day.learner_id
    where sent_on_target_day.n_already_sent + targets_per_day.n_targets > 1
)

select * from violations
