-- One row per learner in the coaching holdout: the share var('coaching_holdout_share') of learners
-- whose md5 bucket (macro coaching_holdout_bucket, salt var('coaching_holdout_salt')) falls below it.
-- They never get a coaching message (int_coaching_enrollments_eligible leaves them out) and are the
-- control group of each message's lift (int_coaching_lift_observations). Deleted learners stay in
-- the group (their bucket does not change); the models reading it drop them.
with

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

holdout as (
    select
        learner_id,
        is_deleted,
        {{ coaching_holdout_bucket('learner_id') }} as holdout_bucket
    from learners
    where {{ in_coaching_holdout('learner_id') }}
)

select * from holdout
