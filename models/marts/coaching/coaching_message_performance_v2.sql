-- One row per catalogue message x ISO week (Monday, UTC) in which it was sent: v1's counts and rates
-- of the messages sent that week (int_coaching_message_weeks), plus the message's lift on items
-- completed in the 7 days after it against the coaching holdout, cumulative from the message's
-- first week through this week (int_coaching_message_lift; docs/coaching.md, "Lift against the
-- holdout"). The contract fixes the columns.
with

weeks as (
    select * from {{ ref('int_coaching_message_weeks') }}
),

lift as (
    select * from {{ ref('int_coaching_message_lift') }}
),

final as (
    select
        weeks.message_key,
        weeks.message_type,
        weeks.week_start,
        weeks.n_sent,
        weeks.n_viewed,
        weeks.n_clicked,
        weeks.n_dismissed,
        weeks.n_rated_helpful,
        weeks.n_rated_unhelpful,
        weeks.n_rated,
        weeks.engagement_rate,
        weeks.helpfulness_rate,
        weeks.helpfulness_ci_low,
        weeks.helpfulness_ci_high,
        coalesce(lift.lift_n_messaged, 0) as lift_n_messaged,
        coalesce(lift.lift_n_recipients, 0) as lift_n_recipients,
        coalesce(lift.lift_n_holdout_days, 0) as lift_n_holdout_days,
        coalesce(lift.lift_n_holdout_members, 0) as lift_n_holdout_members,
        lift.outcome_mean_messaged,
        lift.outcome_mean_holdout,
        lift.lift,
        lift.lift_ci_low,
        lift.lift_ci_high
    from weeks
    left join lift
        on
            weeks.message_key = lift.message_key
            and weeks.week_start = lift.week_start
)

select * from final
