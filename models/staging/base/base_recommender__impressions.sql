-- Every raw recommendation impression row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('recommender', 'recommendation_impressions') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

renamed as (
    select
        source.impression_id,
        source.learner_id,
        trim(source.module) as module,
        source.course_id,
        source.position,
        source.shown_at,
        source.clicked_at,
        known_learners.learner_id is null as is_orphan_learner,
        row_number() over (
            partition by source.impression_id order by row(source.*)
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
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
        case
            when impression_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when position is null or position < 1 then 'out_of_range'
            when shown_at is null then 'missing_timestamp'
            when clicked_at < shown_at then 'inconsistent_timestamps'
        end as quarantine_reason
    from renamed
)

select * from checked
