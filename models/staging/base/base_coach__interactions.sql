-- Every raw coaching interaction row with the reason it is quarantined (null = valid).
-- The raw table has no id: an interaction is identified by (message_id, interaction, occurred_at).
with

source as (
    select * from {{ source('coach', 'coaching_interactions') }}
),

known_messages as (
    select distinct message_id from {{ source('coach', 'coaching_messages') }}
),

renamed as (
    select
        source.message_id,
        lower(source.interaction) as interaction,
        source.occurred_at,
        known_messages.message_id is null as is_orphan_message,
        row_number() over (
            partition by source.message_id, lower(source.interaction), source.occurred_at
            order by row(source.*)
        ) as version_rank
    from source
    left join known_messages on source.message_id = known_messages.message_id
),

checked as (
    select
        message_id,
        interaction,
        occurred_at,
        version_rank,
        case
            when message_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_message then 'orphan_message'
            when interaction not in ('viewed', 'clicked', 'dismissed', 'rated_helpful', 'rated_unhelpful')
                then 'invalid_value'
            when occurred_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
)

select * from checked
