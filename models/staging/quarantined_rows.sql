-- One row per raw row kept out of staging, with the source table, the row's key and the reason.
-- raw row count = staged row count + quarantined row count, per source (tests/assert_raw_rows_reconcile.sql).
with

platform__learners as (
    select * from {{ ref('base_platform__learners') }}
),

platform__courses as (
    select * from {{ ref('base_platform__courses') }}
),

platform__course_items as (
    select * from {{ ref('base_platform__course_items') }}
),

platform__course_skills as (
    select * from {{ ref('base_platform__course_skills') }}
),

platform__enrollments as (
    select * from {{ ref('base_platform__enrollments') }}
),

player__events as (
    select * from {{ ref('base_player__events') }}
),

assessment__submissions as (
    select * from {{ ref('base_assessment__submissions') }}
),

allocation__experiments as (
    select * from {{ ref('base_allocation__experiments') }}
),

allocation__experiment_variants as (
    select * from {{ ref('base_allocation__experiment_variants') }}
),

allocation__experiment_assignments as (
    select * from {{ ref('base_allocation__experiment_assignments') }}
),

coach__messages as (
    select * from {{ ref('base_coach__messages') }}
),

coach__interactions as (
    select * from {{ ref('base_coach__interactions') }}
),

coach__learner_goals as (
    select * from {{ ref('base_coach__learner_goals') }}
),

recommender__impressions as (
    select * from {{ ref('base_recommender__impressions') }}
),

recommender__model_scores as (
    select * from {{ ref('base_recommender__model_scores') }}
),

quarantined as (
    select
        'raw.learners' as source_table,
        cast(learner_id as text) as record_key,
        learner_id,
        quarantine_reason
    from platform__learners
    where quarantine_reason is not null

    union all

    select
        'raw.courses' as source_table,
        cast(course_id as text) as record_key,
        cast(null as bigint) as learner_id,
        quarantine_reason
    from platform__courses
    where quarantine_reason is not null

    union all

    select
        'raw.course_items' as source_table,
        cast(item_id as text) as record_key,
        cast(null as bigint) as learner_id,
        quarantine_reason
    from platform__course_items
    where quarantine_reason is not null

    union all

    select
        'raw.course_skills' as source_table,
        course_id || ':' || skill_id as record_key,
        cast(null as bigint) as learner_id,
        quarantine_reason
    from platform__course_skills
    where quarantine_reason is not null

    union all

    select
        'raw.enrollments' as source_table,
        cast(enrollment_id as text) as record_key,
        learner_id,
        quarantine_reason
    from platform__enrollments
    where quarantine_reason is not null

    union all

    select
        'raw.events' as source_table,
        event_id || '#' || delivery_number as record_key,
        learner_id,
        quarantine_reason
    from player__events
    where quarantine_reason is not null

    union all

    select
        'raw.assessment_submissions' as source_table,
        cast(submission_id as text) as record_key,
        learner_id,
        quarantine_reason
    from assessment__submissions
    where quarantine_reason is not null

    union all

    select
        'raw.experiments' as source_table,
        experiment_key as record_key,
        cast(null as bigint) as learner_id,
        quarantine_reason
    from allocation__experiments
    where quarantine_reason is not null

    union all

    select
        'raw.experiment_variants' as source_table,
        experiment_key || ':' || variant_key as record_key,
        cast(null as bigint) as learner_id,
        quarantine_reason
    from allocation__experiment_variants
    where quarantine_reason is not null

    union all

    select
        'raw.experiment_assignments' as source_table,
        experiment_key || ':' || variant_key || ':' || learner_id || '#' || log_line_number as record_key,
        learner_id,
        quarantine_reason
    from allocation__experiment_assignments
    where quarantine_reason is not null

    union all

    select
        'raw.coaching_messages' as source_table,
        cast(message_id as text) as record_key,
        learner_id,
        quarantine_reason
    from coach__messages
    where quarantine_reason is not null

    union all

    select
        'raw.coaching_interactions' as source_table,
        message_id || ':' || interaction || ':' || occurred_at || '#' || version_rank as record_key,
        cast(null as bigint) as learner_id,
        quarantine_reason
    from coach__interactions
    where quarantine_reason is not null

    union all

    select
        'raw.learner_goals' as source_table,
        cast(goal_id as text) as record_key,
        learner_id,
        quarantine_reason
    from coach__learner_goals
    where quarantine_reason is not null

    union all

    select
        'raw.recommendation_impressions' as source_table,
        cast(impression_id as text) as record_key,
        learner_id,
        quarantine_reason
    from recommender__impressions
    where quarantine_reason is not null

    union all

    select
        'raw.model_scores' as source_table,
        batch_id || ':' || learner_id || ':' || course_id as record_key,
        learner_id,
        quarantine_reason
    from recommender__model_scores
    where quarantine_reason is not null
)

select * from quarantined
