-- v1 of dim_learners, deprecated: the same rows as v2 (both read int_learners_enriched) with
-- country_code as char(2).
-- Kept, unchanged for its consumers, until its deprecation_date; then deleted.
with

learners as (
    select * from {{ ref('int_learners_enriched') }}
),

final as (
    select
        learner_id,
        cast(country_code as char(2)) as country_code,
        occupation,
        signed_up_at,
        first_enrolled_at,
        last_active_at,
        is_active_30d
    from learners
)

select * from final
