-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_assessment__submissions') }}
),

valid_rows as (
    select
        submission_id,
        learner_id,
        item_id,
        attempt_number,
        score,
        submitted_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
