-- One row per learner who has not invoked deletion, with first enrolment and last activity: what
-- every version of dim_learners publishes. No PII. A view, as the marts materialize it.
{{ config(materialized='view') }}

with

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

enrollments as (
    select * from {{ ref('stg_platform__enrollments') }}
),

activity as (
    select * from {{ ref('int_learner_activity_aggregated') }}
),

first_enrollments as (
    select
        learner_id,
        min(enrolled_at) as first_enrolled_at
    from enrollments
    group by learner_id
),

final as (
    select
        learners.learner_id,
        learners.country_code,
        learners.occupation,
        learners.signed_up_at,
        first_enrollments.first_enrolled_at,
        activity.last_active_at,
        coalesce(activity.last_active_at >= {{ as_of() }} - interval '30 days', false) as is_active_30d
    from learners
    left join first_enrollments on learners.learner_id = first_enrollments.learner_id
    left join activity on learners.learner_id = activity.learner_id
    where not learners.is_deleted
)

select * from final
