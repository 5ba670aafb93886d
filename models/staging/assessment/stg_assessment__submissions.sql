-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_assessment__submissions') }}
),

renamed as (
    select
        submission_id,
        learner_id,
        item_id,
        attempt_number,
        score,
        submitted_at
    from source
    where quarantine_reason is null
)

select * from renamed
