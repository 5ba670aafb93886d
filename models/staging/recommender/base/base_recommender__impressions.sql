-- Every raw recommendation impression row with the reason it is quarantined (null = valid).
-- An impression delivered twice: the latest state wins (a clicked copy over an unclicked one, then
-- the later click and showing), ties broken by the other columns.
with

source as (
    select * from {{ source('recommender', 'recommendation_impressions') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

renamed as (
    select
        impression_id,
        learner_id,
        nullif(trim(module), '') as module,
        course_id,
        position,
        shown_at,
        clicked_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.impression_id is null then 'missing_key'
            when renamed.impression_id < 1 then 'out_of_range'
            when learners.learner_id is null then 'orphan_learner'
            when courses.course_id is null then 'orphan_course'
            when renamed.module is null or renamed.position is null then 'missing_value'
            {{ implausible_integers(['renamed.position']) }}
            when renamed.shown_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.shown_at', 'renamed.clicked_at']) }}
            when renamed.clicked_at < renamed.shown_at then 'inconsistent_timestamps'
            {{ before_signup('renamed.shown_at') }}
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join courses on renamed.course_id = courses.course_id
),

ranked as (
    {{ ranked_copies('row_checked', ['impression_id'], [
        'clicked_at desc nulls last', 'shown_at desc', 'learner_id asc', 'module asc', 'course_id asc',
        'position asc',
    ]) }}
),

checked as (
    select
        impression_id,
        learner_id,
        module,
        course_id,
        position,
        shown_at,
        clicked_at,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
