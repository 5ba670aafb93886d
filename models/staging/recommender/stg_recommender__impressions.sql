-- The valid rows of the base model (cast, renamed, checked, deduplicated); the others are in quarantined_rows.
with

base_rows as (
    select * from {{ ref('base_recommender__impressions') }}
),

valid_rows as (
    select
        impression_id,
        learner_id,
        module,
        course_id,
        position,
        shown_at,
        clicked_at
    from base_rows
    where quarantine_reason is null
)

select * from valid_rows
