-- One row per catalogue message x ISO week (Monday, UTC) in which it was sent: the message's
-- incremental lift on items completed in the 7 days after it, against the coaching holdout,
-- cumulative from the message's first week through this week (the latest week's row holds every
-- message with a complete follow-up; int_coaching_lift_observations defines the observations).
--   messaged: the messages of this key sent from its first week through this week;
--   holdout:  holdout learner-days from the day this key was first sent through the end of this week.
-- Each group's mean is a ratio of per-learner sums (a learner contributes several observations),
-- so its standard error is the delta method's over learners (macros/statistics/effects.sql):
-- outcome_mean = sum(outcome) / count(observations). lift = mean_messaged / mean_holdout - 1, with
-- the delta-method 95% interval of a relative difference of independent groups.
with

messages as (
    select * from {{ ref('int_coaching_messages_summarised') }}
),

catalogue as (
    select * from {{ ref('coaching_messages') }}
),

observations as (
    select * from {{ ref('int_coaching_lift_observations') }}
),

sent_weeks as (
    select
        messages.message_key,
        cast(date_trunc('week', messages.sent_date) as date) as week_start,
        min(messages.sent_date) as first_sent_date
    from messages
    inner join catalogue on messages.message_key = catalogue.message_key
    group by messages.message_key, cast(date_trunc('week', messages.sent_date) as date)
),

message_weeks as (
    select
        message_key,
        week_start,
        min(first_sent_date) over (partition by message_key) as first_sent_date
    from sent_weeks
),

messaged_per_learner as (
    -- each recipient's messages of the key, counted into the week they were sent and every later week
    select
        message_weeks.message_key,
        message_weeks.week_start,
        observations.observation_group,
        observations.learner_id,
        sum(observations.outcome_items) as outcome_sum,
        count(*) as n_observations
    from message_weeks
    inner join observations
        on
            message_weeks.message_key = observations.message_key
            and message_weeks.week_start + 7 > observations.reference_date
    where observations.observation_group = 'messaged'
    group by
        message_weeks.message_key, message_weeks.week_start, observations.observation_group, observations.learner_id
),

holdout_days as (
    -- each holdout learner's outcome and observations per day
    select
        learner_id,
        reference_date,
        sum(outcome_items) as outcome_sum,
        count(*) as n_observations
    from observations
    where observation_group = 'holdout'
    group by learner_id, reference_date
),

bounds as (
    -- the days a key's holdout range starts (its first day) or ends (the day after the week)
    select first_sent_date as bound_date from message_weeks
    union
    select week_start + 7 as bound_date from message_weeks
),

holdout_send_days as (
    select distinct reference_date
    from observations
    where observation_group = 'holdout'
),

bound_intervals as (
    -- each send day's next bound: the days of one interval between two bounds are summed once
    select
        holdout_send_days.reference_date,
        min(bounds.bound_date) as next_bound_date
    from holdout_send_days
    inner join bounds on holdout_send_days.reference_date < bounds.bound_date
    group by holdout_send_days.reference_date
),

holdout_intervals as (
    -- each holdout learner's sums over their days in each interval ending at a bound
    select
        holdout_days.learner_id,
        bound_intervals.next_bound_date as bound_date,
        sum(holdout_days.outcome_sum) as outcome_sum,
        sum(holdout_days.n_observations) as n_observations
    from holdout_days
    inner join bound_intervals on holdout_days.reference_date = bound_intervals.reference_date
    group by holdout_days.learner_id, bound_intervals.next_bound_date
),

holdout_learners as (
    select
        learner_id,
        min(bound_date) as first_bound_date
    from holdout_intervals
    group by learner_id
),

holdout_before as (
    -- each holdout learner's sums over their days before each bound from their first one on: the
    -- running sums of the intervals, where a join of every day to every later bound repeated
    -- each day for every bound
    select
        holdout_learners.learner_id,
        bounds.bound_date,
        cast(sum(coalesce(holdout_intervals.outcome_sum, 0)) over by_bound as bigint) as outcome_sum,
        cast(sum(coalesce(holdout_intervals.n_observations, 0)) over by_bound as bigint) as n_observations
    from holdout_learners
    inner join bounds on holdout_learners.first_bound_date <= bounds.bound_date
    left join holdout_intervals
        on
            holdout_learners.learner_id = holdout_intervals.learner_id
            and bounds.bound_date = holdout_intervals.bound_date
    window by_bound as (partition by holdout_learners.learner_id order by bounds.bound_date)
),

holdout_per_learner as (
    -- each holdout learner's days from the key's first day through the end of the week: their
    -- sums before the week's end less their sums before the first day (a join per range would
    -- repeat every holdout day for every week of every key)
    select
        message_weeks.message_key,
        message_weeks.week_start,
        'holdout' as observation_group,
        until_end.learner_id,
        until_end.outcome_sum - coalesce(before_start.outcome_sum, 0) as outcome_sum,
        until_end.n_observations - coalesce(before_start.n_observations, 0) as n_observations
    from message_weeks
    inner join holdout_before as until_end
        on message_weeks.week_start + 7 = until_end.bound_date
    left join holdout_before as before_start
        on
            until_end.learner_id = before_start.learner_id
            and message_weeks.first_sent_date = before_start.bound_date
    where until_end.n_observations > coalesce(before_start.n_observations, 0)
),

per_learner as (
    select * from messaged_per_learner
    union all
    select * from holdout_per_learner
),

per_group as (
    select
        message_key,
        week_start,
        observation_group,
        count(*) as n_learners,
        sum(n_observations) as n_observations,
        avg(cast(outcome_sum as double precision)) as mean_sum,
        avg(cast(n_observations as double precision)) as mean_n,
        var_samp(cast(outcome_sum as double precision)) as var_sum,
        var_samp(cast(n_observations as double precision)) as var_n,
        covar_samp(cast(outcome_sum as double precision), cast(n_observations as double precision)) as cov_sum_n
    from per_learner
    group by message_key, week_start, observation_group
),

group_means as (
    select
        message_key,
        week_start,
        observation_group,
        n_learners,
        n_observations,
        {{ ratio_estimate('mean_sum', 'mean_n') }} as outcome_mean,
        sqrt(
            greatest({{ delta_ratio_variance('var_sum', 'var_n', 'cov_sum_n', 'mean_sum', 'mean_n') }}, 0) / n_learners
        ) as outcome_mean_se
    from per_group
),

paired as (
    select
        message_weeks.message_key,
        message_weeks.week_start,
        coalesce(messaged.n_observations, 0) as lift_n_messaged,
        coalesce(messaged.n_learners, 0) as lift_n_recipients,
        coalesce(holdout.n_observations, 0) as lift_n_holdout_days,
        coalesce(holdout.n_learners, 0) as lift_n_holdout_members,
        messaged.outcome_mean as outcome_mean_messaged,
        holdout.outcome_mean as outcome_mean_holdout,
        messaged.outcome_mean_se as outcome_se_messaged,
        holdout.outcome_mean_se as outcome_se_holdout
    from message_weeks
    left join group_means as messaged
        on
            message_weeks.message_key = messaged.message_key
            and message_weeks.week_start = messaged.week_start
            and messaged.observation_group = 'messaged'
    left join group_means as holdout
        on
            message_weeks.message_key = holdout.message_key
            and message_weeks.week_start = holdout.week_start
            and holdout.observation_group = 'holdout'
),

lifts as (
    select
        *,
        {{ relative_lift('outcome_mean_messaged', 'outcome_mean_holdout') }} as lift,
        {{ relative_lift_se(
            'outcome_mean_messaged', 'outcome_se_messaged', 'outcome_mean_holdout', 'outcome_se_holdout'
        ) }} as lift_se
    from paired
),

final as (
    select
        message_key,
        week_start,
        cast(lift_n_messaged as integer) as lift_n_messaged,
        cast(lift_n_recipients as integer) as lift_n_recipients,
        cast(lift_n_holdout_days as integer) as lift_n_holdout_days,
        cast(lift_n_holdout_members as integer) as lift_n_holdout_members,
        outcome_mean_messaged,
        outcome_mean_holdout,
        lift,
        {{ ci_low('lift', 'lift_se') }} as lift_ci_low,
        {{ ci_high('lift', 'lift_se') }} as lift_ci_high
    from lifts
)

select * from final
