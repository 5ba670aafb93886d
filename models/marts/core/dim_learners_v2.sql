-- One row per learner who has not invoked deletion. No PII. (v2: country_code is text.)
-- Computed in int_learners_enriched, which v1 also reads; the contract fixes the columns.
with

learners as (
    select * from {{ ref('int_learners_enriched') }}
),

final as (
    select
        learner_id,
        country_code,
        occupation,
        signed_up_at,
        first_enrolled_at,
        last_active_at,
        is_active_30d
    from learners
)

select * from final
