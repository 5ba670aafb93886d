-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_player__events') }}
),

valid_rows as (
    select
        event_id,
        learner_id,
        event_type,
        course_id,
        item_id,
        occurred_at,
        received_at,
        properties
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
