-- Rule: a learner who dismissed or rated unhelpful 2 of their last 3 messages gets nothing for 14
-- days from the day the second negative reaction arrived. Recomputed here from staging (not from
-- the targeting intermediates), as of the end of the target date (UTC). Fails on every target row
-- of a suppressed learner.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

sent_messages as (
    select * from {{ ref('stg_coach__messages') }}
),

interactions as (
    select * from {{ ref('stg_coach__interactions') }}
),

learner_messages as (
    select
        targets.target_date,
        targets.learner_id,
        sent_messages.message_id,
        rank() over (
            partition by targets.target_date, targets.learner_id
            order by sent_messages.sent_at desc, sent_messages.message_id desc
        ) as recency_rank
    from targets
    inner join sent_messages
        on
            targets.learner_id = sent_messages.learner_id
            and cast(sent_messages.sent_at at time zone 'UTC' as date) <= targets.target_date
),

negative_reactions as (
    select
        learner_messages.target_date,
        learner_messages.learner_id,
        learner_messages.message_id,
        min(interactions.occurred_at) as negative_at
    from learner_messages
    inner join interactions
        on
            learner_messages.message_id = interactions.message_id
            and interactions.interaction in ('dismissed', 'rated_unhelpful')
            and cast(interactions.occurred_at at time zone 'UTC' as date) <= learner_messages.target_date
    where learner_messages.recency_rank <= 3
    group by learner_messages.target_date, learner_messages.learner_id, learner_messages.message_id
),

triggers as (
    select
        target_date,
        learner_id,
        count(*) as n_negative_of_last_3,
        -- the second negative reaction in time: when 2 of the last 3 was reached
        (array_agg(negative_at order by negative_at))[2] as triggered_at
    from negative_reactions
    group by target_date, learner_id
),

violations as (
    select
        target_date,
        learner_id,
        n_negative_of_last_3,
        triggered_at
    from triggers
    where
        n_negative_of_last_3 >= 2
        and cast(triggered_at at time zone 'UTC' as date) > target_date - 14
)

select * from violations
