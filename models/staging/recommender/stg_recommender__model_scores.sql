-- Valid rows of the base model (cast, renamed, deduplicated); quarantined rows are in quarantined_rows.
with

source as (
    select * from {{ ref('base_recommender__model_scores') }}
),

renamed as (
    select
        model_name,
        model_version,
        batch_id,
        learner_id,
        course_id,
        score,
        scored_at
    from source
    where quarantine_reason is null
)

select * from renamed
