-- One row per catalogue message: all-time helpfulness up to the build's date and whether the
-- feedback loop pauses it for everyone (Wilson 95% upper bound of helpfulness below 0.3 after
-- 200 or more ratings). A rating is a sent message with at least one rated_helpful
-- (or rated_unhelpful) interaction, as in coaching_message_performance.
with

catalogue as (
    select * from {{ ref('coaching_messages') }}
),

messages as (
    select * from {{ ref('int_coaching_messages_summarised') }}
),

counts as (
    select
        catalogue.message_key,
        count(messages.message_id) as n_sent,
        count(*) filter (where messages.has_rated_helpful) as n_rated_helpful,
        count(*) filter (where messages.has_rated_unhelpful) as n_rated_unhelpful
    from catalogue
    left join messages on catalogue.message_key = messages.message_key
    group by catalogue.message_key
),

bounds as (
    select
        message_key,
        n_sent,
        n_rated_helpful,
        n_rated_unhelpful,
        n_rated_helpful + n_rated_unhelpful as n_rated,
        {{ wilson_interval('n_rated_helpful', 'n_rated_helpful + n_rated_unhelpful', 'lower') }}
            as helpfulness_ci_low,
        {{ wilson_interval('n_rated_helpful', 'n_rated_helpful + n_rated_unhelpful', 'upper') }}
            as helpfulness_ci_high
    from counts
),

final as (
    select
        *,
        coalesce(n_rated >= 200 and helpfulness_ci_high < 0.3, false) as is_paused
    from bounds
)

select * from final
