-- Every raw coaching message row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('coach', 'coaching_messages') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

catalogue as (
    select message_key from {{ ref('coaching_messages') }}
),

renamed as (
    select
        source.message_id,
        source.learner_id,
        source.course_id,
        trim(source.message_key) as message_key,
        lower(source.channel) as channel,
        source.sent_at,
        known_learners.learner_id is null as is_orphan_learner,
        catalogue.message_key is null as is_unknown_message,
        row_number() over (
            partition by source.message_id order by row(source.*)
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
    left join catalogue on trim(source.message_key) = catalogue.message_key
),

checked as (
    select
        message_id,
        learner_id,
        course_id,
        message_key,
        channel,
        sent_at,
        case
            when message_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when is_unknown_message then 'unknown_message_key'
            when channel not in ('in_course', 'email') then 'invalid_value'
            when sent_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
)

select * from checked
