-- One row per coaching message sent up to the end of the build's date (UTC), with which kinds of
-- interaction it received by then (each kind counted once per message) and when it first got
-- negative feedback (dismissed or rated unhelpful).
with

messages as (
    select * from {{ ref('stg_coach__messages') }}
),

interactions as (
    select * from {{ ref('stg_coach__interactions') }}
),

known_interactions as (
    select
        message_id,
        interaction,
        occurred_at
    from interactions
    where cast(occurred_at at time zone 'UTC' as date) <= {{ as_of_date() }}
),

per_message as (
    select
        message_id,
        bool_or(interaction = 'viewed') as has_viewed,
        bool_or(interaction = 'clicked') as has_clicked,
        bool_or(interaction = 'dismissed') as has_dismissed,
        bool_or(interaction = 'rated_helpful') as has_rated_helpful,
        bool_or(interaction = 'rated_unhelpful') as has_rated_unhelpful,
        min(occurred_at) filter (where interaction in ('dismissed', 'rated_unhelpful')) as first_negative_at
    from known_interactions
    group by message_id
),

summarised as (
    select
        messages.message_id,
        messages.learner_id,
        messages.course_id,
        messages.message_key,
        messages.channel,
        messages.sent_at,
        cast(messages.sent_at at time zone 'UTC' as date) as sent_date,
        coalesce(per_message.has_viewed, false) as has_viewed,
        coalesce(per_message.has_clicked, false) as has_clicked,
        coalesce(per_message.has_dismissed, false) as has_dismissed,
        coalesce(per_message.has_rated_helpful, false) as has_rated_helpful,
        coalesce(per_message.has_rated_unhelpful, false) as has_rated_unhelpful,
        per_message.first_negative_at
    from messages
    left join per_message on messages.message_id = per_message.message_id
    where cast(messages.sent_at at time zone 'UTC' as date) <= {{ as_of_date() }}
)

select * from summarised
