-- One row per catalogue message x ISO week (Monday, UTC) in which it was sent, with what happened to
-- the messages sent that week (int_coaching_message_weeks). The contract fixes the columns.
with

weeks as (
    select * from {{ ref('int_coaching_message_weeks') }}
),

final as (
    select
        message_key,
        message_type,
        week_start,
        n_sent,
        n_viewed,
        n_clicked,
        n_dismissed,
        n_rated_helpful,
        n_rated_unhelpful,
        n_rated,
        engagement_rate,
        helpfulness_rate,
        helpfulness_ci_low,
        helpfulness_ci_high
    from weeks
)

select * from final
