-- Every raw coaching message row with the reason it is quarantined (null = valid).
-- A message delivered twice: the later sent_at wins, ties broken by the other columns.
with

source as (
    select * from {{ source('coach', 'coaching_messages') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

catalogue as (
    select message_key from {{ ref('coaching_messages') }}
),

renamed as (
    select
        message_id,
        learner_id,
        course_id,
        trim(message_key) as message_key,
        lower(channel) as channel,
        sent_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.message_id is null then 'missing_key'
            when renamed.message_id < 1 then 'out_of_range'
            when learners.learner_id is null then 'orphan_learner'
            when renamed.course_id is not null and courses.course_id is null then 'orphan_course'
            when catalogue.message_key is null then 'unknown_message_key'
            when renamed.channel is null or renamed.channel not in ('in_course', 'email') then 'invalid_value'
            when renamed.sent_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.sent_at']) }}
            {{ before_signup('renamed.sent_at') }}
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join courses on renamed.course_id = courses.course_id
    left join catalogue on renamed.message_key = catalogue.message_key
),

ranked as (
    {{ ranked_copies('row_checked', ['message_id'], [
        'sent_at desc', 'learner_id asc', 'course_id asc', 'message_key asc', 'channel asc',
    ]) }}
),

checked as (
    select
        message_id,
        learner_id,
        course_id,
        message_key,
        channel,
        sent_at,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
