-- One row per learner who dismissed or rated unhelpful 2 of their last 3 messages (as of the end
-- of the build's date, UTC), with the date that happened: the day the second negative reaction
-- among those messages arrived. Targeting suppresses the learner from that date for 14 days
-- (suppressed_until_date is the first day they may be messaged again).
with

messages as (
    select * from {{ ref('int_coaching_messages_summarised') }}
),

last_three as (
    select
        learner_id,
        message_id,
        first_negative_at,
        row_number() over (
            partition by learner_id order by sent_at desc, message_id desc
        ) as recency_rank
    from messages
),

negatives as (
    select
        learner_id,
        first_negative_at,
        row_number() over (
            partition by learner_id order by first_negative_at asc
        ) as negative_rank
    from last_three
    where recency_rank <= 3 and first_negative_at is not null
),

suppressions as (
    select
        learner_id,
        first_negative_at as triggered_at,
        cast(first_negative_at at time zone 'UTC' as date) as triggered_date,
        cast(first_negative_at at time zone 'UTC' as date) + 14 as suppressed_until_date
    from negatives
    where negative_rank = 2
)

select * from suppressions
