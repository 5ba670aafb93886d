-- Every raw coaching interaction row with the reason it is quarantined (null = valid).
-- The raw table has no id: an interaction is identified by (message_id, interaction, occurred_at),
-- all its columns, so a repeated row is always an identical copy (duplicate_key).
with

source as (
    select * from {{ source('coach', 'coaching_interactions') }}
),

messages as (
    select * from {{ ref('stg_coach__messages') }}
),

renamed as (
    select
        message_id,
        lower(interaction) as interaction,
        occurred_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.message_id is null or renamed.interaction is null or renamed.occurred_at is null
                then 'missing_key'
            when messages.message_id is null then 'orphan_message'
            when
                renamed.interaction not in ('viewed', 'clicked', 'dismissed', 'rated_helpful', 'rated_unhelpful')
                then 'invalid_value'
            {{ implausible_timestamps(['renamed.occurred_at']) }}
            when renamed.occurred_at < messages.sent_at then 'inconsistent_timestamps'
        end as row_reason
    from renamed
    left join messages on renamed.message_id = messages.message_id
),

numbered as (
    select
        *,
        row_number() over (partition by message_id, interaction, occurred_at, row_reason is null) as copy_number
    from row_checked
),

checked as (
    select
        message_id,
        interaction,
        occurred_at,
        coalesce(row_reason, case when copy_number > 1 then 'duplicate_key' end) as quarantine_reason
    from numbered
)

select * from checked
