-- The day's send list: at most one message per learner for the build's date (as_of_date), chosen
-- among the messages whose segment the learner is in, after every feedback-loop rule:
--   1. paused messages (Wilson 95% upper bound of helpfulness < 0.3 after 200+ ratings) go to no one;
--   2. suppressed learners (2 of their last 3 messages dismissed or rated unhelpful) get nothing
--      for 14 days from the day that happened;
--   3. a learner already messaged on the target date gets nothing (1 per day);
--   4. a learner with 3 messages in the 7 days ending on the target date gets nothing; with the new
--      message the window holds at most 3;
--   5. a message_key the learner received in the 14 days ending on the target date is not repeated;
--   6. deleted, unenrolled and finished learner x course pairs never reach the candidates
--      (int_coaching_enrollments_eligible).
-- Days are UTC calendar days. Messages already sent are staging's valid messages sent on or
-- before the target date (int_coaching_messages_summarised). Choice among the remaining
-- candidates: priority desc, then message_key asc, then course_id asc (deterministic).
with

segments as (
    select * from {{ ref('int_coaching_segments_unioned') }}
),

catalogue as (
    select * from {{ ref('coaching_messages') }}
),

feedback as (
    select * from {{ ref('int_coaching_message_feedback') }}
),

suppressions as (
    select * from {{ ref('int_coaching_learner_suppressions') }}
),

sent_messages as (
    select * from {{ ref('int_coaching_messages_summarised') }}
),

target_day as (
    select {{ as_of_date() }} as target_date
),

history as (
    select
        sent_messages.learner_id,
        sent_messages.message_key,
        sent_messages.sent_date,
        target_day.target_date
    from sent_messages
    cross join target_day
    where sent_messages.sent_date between target_day.target_date - 13 and target_day.target_date
),

learner_volume as (
    select
        learner_id,
        count(*) filter (where sent_date = target_date) as n_sent_today,
        count(*) filter (where sent_date > target_date - 7) as n_sent_7d
    from history
    group by learner_id
),

recent_keys as (
    select distinct
        learner_id,
        message_key
    from history
),

candidates as (
    select
        target_day.target_date,
        segments.learner_id,
        segments.course_id,
        catalogue.message_key,
        catalogue.message_type,
        segments.segment,
        catalogue.priority,
        segments.reason_detail,
        catalogue.message_copy
    from segments
    inner join catalogue on segments.segment = catalogue.segment
    cross join target_day
    where catalogue.is_active
),

allowed as (
    select candidates.*
    from candidates
    left join feedback on candidates.message_key = feedback.message_key
    left join suppressions
        on
            candidates.learner_id = suppressions.learner_id
            and candidates.target_date >= suppressions.triggered_date
            and candidates.target_date < suppressions.suppressed_until_date
    left join learner_volume on candidates.learner_id = learner_volume.learner_id
    left join recent_keys
        on
            candidates.learner_id = recent_keys.learner_id
            and candidates.message_key = recent_keys.message_key
    where
        not coalesce(feedback.is_paused, false)
        and suppressions.learner_id is null
        and coalesce(learner_volume.n_sent_today, 0) = 0
        and coalesce(learner_volume.n_sent_7d, 0) < 3
        and recent_keys.learner_id is null
),

ranked as (
    select
        *,
        row_number() over (
            partition by learner_id
            order by priority desc, message_key asc, course_id asc
        ) as choice_rank
    from allowed
),

final as (
    select
        target_date,
        learner_id,
        course_id,
        message_key,
        message_type,
        segment,
        priority,
        segment || ': ' || reason_detail as reason,
        message_copy
    from ranked
    where choice_rank = 1
)

select * from final
