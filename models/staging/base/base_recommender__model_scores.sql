-- Every raw model score row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('recommender', 'model_scores') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

renamed as (
    select
        trim(source.model_name) as model_name,
        source.model_version,
        source.batch_id,
        source.learner_id,
        source.course_id,
        source.score,
        source.scored_at,
        known_learners.learner_id is null as is_orphan_learner,
        row_number() over (
            partition by source.model_name, source.batch_id, source.learner_id, source.course_id
            -- every column, so the order is total; plain columns, not a hash of the row (cheaper)
            order by source.scored_at desc, source.score asc, source.model_version asc
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
),

checked as (
    select
        model_name,
        model_version,
        batch_id,
        learner_id,
        course_id,
        score,
        scored_at,
        case
            when model_name is null or batch_id is null or learner_id is null or course_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when
                score is null
                or score = cast('NaN' as float8)
                or score in (cast('Infinity' as float8), cast('-Infinity' as float8))
                then 'missing_value'
            when scored_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
)

select * from checked
