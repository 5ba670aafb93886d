-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_coach__messages') }}
),

renamed as (
    select
        message_id,
        learner_id,
        course_id,
        message_key,
        channel,
        sent_at
    from source
    where quarantine_reason is null
)

select * from renamed
