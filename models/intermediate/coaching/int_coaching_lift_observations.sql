-- One row per observation of the coaching lift's outcome: items a learner completed (first
-- completions) on the 7 UTC days after a reference day D (D+1..D+7).
--   messaged: each message sent on day D to a learner outside the holdout (reference day = the
--             day it was sent);
--   holdout:  each holdout learner on each day D the coach sent any message (the days messages
--             could have gone to them).
-- Both groups keep only eligible learner-days, with the same rule: the learner has not invoked
-- deletion and had an enrolment open at the start of D (enrolled before D, not withdrawn before
-- D); and only days whose 7 following days are before the build's date (complete follow-up).
with

messages as (
    select * from {{ ref('int_coaching_messages_summarised') }}
),

holdout as (
    select * from {{ ref('int_coaching_holdout') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

completions as (
    select * from {{ ref('int_item_completions_aggregated') }}
),

follow_up as (
    -- the last reference day whose days D+1..D+7 all end before the build's date starts
    select {{ as_of_date() }} - 8 as last_reference_date
),

send_days as (
    select distinct messages.sent_date as reference_date
    from messages
    cross join follow_up
    where messages.sent_date <= follow_up.last_reference_date
),

messaged as (
    select
        'messaged' as observation_group,
        messages.message_id,
        messages.message_key,
        messages.learner_id,
        messages.sent_date as reference_date
    from messages
    cross join follow_up
    where
        messages.sent_date <= follow_up.last_reference_date
        and not exists (
            select 1 from holdout
            where holdout.learner_id = messages.learner_id
        )
),

holdout_days as (
    select
        'holdout' as observation_group,
        cast(null as bigint) as message_id,
        cast(null as text) as message_key,
        holdout.learner_id,
        send_days.reference_date
    from holdout
    cross join send_days
),

candidates as (
    select * from messaged
    union all
    select * from holdout_days
),

eligible as (
    select candidates.*
    from candidates
    inner join learners on candidates.learner_id = learners.learner_id
    where
        not learners.is_deleted
        and exists (
            select 1
            from enrollments
            where
                enrollments.learner_id = candidates.learner_id
                and cast(enrollments.enrolled_at at time zone 'UTC' as date) < candidates.reference_date
                and (
                    enrollments.unenrolled_at is null
                    or cast(enrollments.unenrolled_at at time zone 'UTC' as date) >= candidates.reference_date
                )
        )
),

daily_completions as (
    select
        learner_id,
        cast(first_completed_at at time zone 'UTC' as date) as completed_date,
        count(*) as n_items
    from completions
    group by learner_id, cast(first_completed_at at time zone 'UTC' as date)
),

follow_up_days as (
    -- the offsets of the follow-up days D+1..D+7: joined on the day itself, each reference day
    -- meets the learner's completion days by equality, where a range join compared it with every
    -- completion day of the learner
    {%- for day_offset in range(1, 8) %}
    select {{ day_offset }} as day_offset
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

reference_days as (
    -- a learner messaged twice on one day has one follow-up
    select distinct
        learner_id,
        reference_date
    from eligible
),

followed_up as (
    select
        reference_days.learner_id,
        reference_days.reference_date,
        sum(daily_completions.n_items) as n_items
    from reference_days
    cross join follow_up_days
    inner join daily_completions
        on
            reference_days.learner_id = daily_completions.learner_id
            and reference_days.reference_date + follow_up_days.day_offset = daily_completions.completed_date
    group by reference_days.learner_id, reference_days.reference_date
),

outcomes as (
    select
        eligible.observation_group,
        eligible.message_id,
        eligible.message_key,
        eligible.learner_id,
        eligible.reference_date,
        cast(coalesce(followed_up.n_items, 0) as integer) as outcome_items
    from eligible
    left join followed_up
        on
            eligible.learner_id = followed_up.learner_id
            and eligible.reference_date = followed_up.reference_date
)

select * from outcomes
