-- Rule: a message whose helpfulness Wilson 95% upper bound is below 0.3 after 200+ ratings (all
-- time, up to the end of the target date) is paused for everyone. Recomputed from staging. Fails
-- on every target row of a paused message.
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

target_dates as (
    select distinct target_date from targets
),

ratings as (
    select
        target_dates.target_date,
        sent_messages.message_key,
        count(distinct interactions.message_id) filter (
            where interactions.interaction = 'rated_helpful'
        ) as n_helpful,
        count(distinct interactions.message_id) filter (
            where interactions.interaction = 'rated_unhelpful'
        ) as n_unhelpful
    from target_dates
    inner join sent_messages
        on cast(sent_messages.sent_at at time zone 'UTC' as date) <= target_dates.target_date
    inner join interactions
        on
            sent_messages.message_id = interactions.message_id
            and cast(interactions.occurred_at at time zone 'UTC' as date) <= target_dates.target_date
    group by target_dates.target_date, sent_messages.message_key
),

paused as (
    select
        target_date,
        message_key,
        n_helpful + n_unhelpful as n_rated,
        {{ wilson_interval('n_helpful', 'n_helpful + n_unhelpful', 'upper') }} as helpfulness_ci_high
    from ratings
),

violations as (
    select
        targets.target_date,
        targets.learner_id,
        targets.message_key,
        paused.n_rated,
        paused.helpfulness_ci_high
    from targets
    inner join paused
        on
            targets.target_date = paused.target_date
            and targets.message_key = paused.message_key
    where paused.n_rated >= 200 and paused.helpfulness_ci_high < 0.3
)

select * from violations
