-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_recommender__model_scores') }}
),

valid_rows as (
    select
        model_name,
        model_version,
        batch_id,
        learner_id,
        course_id,
        score,
        scored_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
