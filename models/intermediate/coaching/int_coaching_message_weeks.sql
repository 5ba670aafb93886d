-- One row per catalogue message x ISO week (Monday, UTC) in which it was sent. Counts are of
-- messages sent that week: n_viewed is the number of those messages with at least one viewed
-- interaction (by the build's date), and so on for each kind; a message rated both helpful and
-- unhelpful counts once in each. Rates are null when their denominator is 0. Published as
-- coaching_message_performance (every version).
with

messages as (
    select * from {{ ref('int_coaching_messages_summarised') }}
),

catalogue as (
    select * from {{ ref('coaching_messages') }}
),

weekly as (
    select
        messages.message_key,
        catalogue.message_type,
        cast(date_trunc('week', messages.sent_date) as date) as week_start,
        count(*) as n_sent,
        count(*) filter (where messages.has_viewed) as n_viewed,
        count(*) filter (where messages.has_clicked) as n_clicked,
        count(*) filter (where messages.has_dismissed) as n_dismissed,
        count(*) filter (where messages.has_rated_helpful) as n_rated_helpful,
        count(*) filter (where messages.has_rated_unhelpful) as n_rated_unhelpful
    from messages
    inner join catalogue on messages.message_key = catalogue.message_key
    group by messages.message_key, catalogue.message_type, cast(date_trunc('week', messages.sent_date) as date)
),

final as (
    select
        message_key,
        message_type,
        week_start,
        cast(n_sent as integer) as n_sent,
        cast(n_viewed as integer) as n_viewed,
        cast(n_clicked as integer) as n_clicked,
        cast(n_dismissed as integer) as n_dismissed,
        cast(n_rated_helpful as integer) as n_rated_helpful,
        cast(n_rated_unhelpful as integer) as n_rated_unhelpful,
        cast(n_rated_helpful + n_rated_unhelpful as integer) as n_rated,
        cast(n_clicked as double precision) / nullif(n_viewed, 0) as engagement_rate,
        cast(n_rated_helpful as double precision) / nullif(n_rated_helpful + n_rated_unhelpful, 0)
            as helpfulness_rate,
        {{ wilson_interval('n_rated_helpful', 'n_rated_helpful + n_rated_unhelpful', 'lower') }}
            as helpfulness_ci_low,
        {{ wilson_interval('n_rated_helpful', 'n_rated_helpful + n_rated_unhelpful', 'upper') }}
            as helpfulness_ci_high
    from weekly
)

select * from final
