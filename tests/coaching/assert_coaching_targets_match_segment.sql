{{ config(group="coaching") }}

-- Every target row is an active catalogue message of the row's segment, and the learner is in
-- that segment for that course. Fails on every row that is not.
with

targets as (
    select * from {{ ref('coaching_targets') }}
),

catalogue as (
    select * from {{ ref('coaching_messages') }}
),

segments as (
    select * from {{ ref('int_coaching_segments_unioned') }}
),

violations as (
    select
        targets.target_date,
        targets.learner_id,
        targets.course_id,
        targets.message_key,
        targets.segment
    from targets
    left join catalogue
        on
            targets.message_key = catalogue.message_key
            and targets.segment = catalogue.segment
            and targets.message_type = catalogue.message_type
            and targets.priority = catalogue.priority
            and catalogue.is_active
    left join segments
        on
            targets.learner_id = segments.learner_id
            and targets.course_id = segments.course_id
            and targets.segment = segments.segment
    where catalogue.message_key is null or segments.learner_id is null
)

select * from violations
