-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_recommender__impressions') }}
),

renamed as (
    select
        impression_id,
        learner_id,
        module,
        course_id,
        position,
        shown_at,
        clicked_at
    from source
    where quarantine_reason is null
)

select * from renamed
