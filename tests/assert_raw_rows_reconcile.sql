-- Nothing is dropped silently: for every source table, raw rows = staged rows + quarantined rows.
-- Fails with one row per source table whose counts do not reconcile.
with

counts as (
    select
        'raw.learners' as source_table,
        (select count(*) from {{ source('platform', 'learners') }}) as n_raw,
        (select count(*) from {{ ref('stg_platform__learners') }}) as n_staged

    union all

    select
        'raw.courses' as source_table,
        (select count(*) from {{ source('platform', 'courses') }}) as n_raw,
        (select count(*) from {{ ref('stg_platform__courses') }}) as n_staged

    union all

    select
        'raw.course_items' as source_table,
        (select count(*) from {{ source('platform', 'course_items') }}) as n_raw,
        (select count(*) from {{ ref('stg_platform__course_items') }}) as n_staged

    union all

    select
        'raw.course_skills' as source_table,
        (select count(*) from {{ source('platform', 'course_skills') }}) as n_raw,
        (select count(*) from {{ ref('stg_platform__course_skills') }}) as n_staged

    union all

    select
        'raw.enrollments' as source_table,
        (select count(*) from {{ source('platform', 'enrollments') }}) as n_raw,
        (select count(*) from {{ ref('stg_platform__enrollments') }}) as n_staged

    union all

    select
        'raw.events' as source_table,
        (select count(*) from {{ source('player', 'events') }}) as n_raw,
        (select count(*) from {{ ref('stg_player__events') }}) as n_staged

    union all

    select
        'raw.assessment_submissions' as source_table,
        (select count(*) from {{ source('assessment', 'assessment_submissions') }}) as n_raw,
        (select count(*) from {{ ref('stg_assessment__submissions') }}) as n_staged

    union all

    select
        'raw.experiments' as source_table,
        (select count(*) from {{ source('allocation', 'experiments') }}) as n_raw,
        (select count(*) from {{ ref('stg_allocation__experiments') }}) as n_staged

    union all

    select
        'raw.experiment_variants' as source_table,
        (select count(*) from {{ source('allocation', 'experiment_variants') }}) as n_raw,
        (select count(*) from {{ ref('stg_allocation__experiment_variants') }}) as n_staged

    union all

    select
        'raw.experiment_assignments' as source_table,
        (select count(*) from {{ source('allocation', 'experiment_assignments') }}) as n_raw,
        (select count(*) from {{ ref('stg_allocation__experiment_assignments') }}) as n_staged

    union all

    select
        'raw.coaching_messages' as source_table,
        (select count(*) from {{ source('coach', 'coaching_messages') }}) as n_raw,
        (select count(*) from {{ ref('stg_coach__messages') }}) as n_staged

    union all

    select
        'raw.coaching_interactions' as source_table,
        (select count(*) from {{ source('coach', 'coaching_interactions') }}) as n_raw,
        (select count(*) from {{ ref('stg_coach__interactions') }}) as n_staged

    union all

    select
        'raw.learner_goals' as source_table,
        (select count(*) from {{ source('coach', 'learner_goals') }}) as n_raw,
        (select count(*) from {{ ref('stg_coach__learner_goals') }}) as n_staged

    union all

    select
        'raw.recommendation_impressions' as source_table,
        (select count(*) from {{ source('recommender', 'recommendation_impressions') }}) as n_raw,
        (select count(*) from {{ ref('stg_recommender__impressions') }}) as n_staged

    union all

    select
        'raw.model_scores' as source_table,
        (select count(*) from {{ source('recommender', 'model_scores') }}) as n_raw,
        (select count(*) from {{ ref('stg_recommender__model_scores') }}) as n_staged
),

quarantined as (
    select
        source_table,
        count(*) as n_quarantined
    from {{ ref('quarantined_rows') }}
    group by source_table
),

reconciled as (
    select
        counts.source_table,
        counts.n_raw,
        counts.n_staged,
        coalesce(quarantined.n_quarantined, 0) as n_quarantined
    from counts
    left join quarantined on counts.source_table = quarantined.source_table
)

select * from reconciled
where n_raw != n_staged + n_quarantined
