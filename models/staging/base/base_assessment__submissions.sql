-- Every raw submission row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('assessment', 'assessment_submissions') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

known_items as (
    select distinct item_id from {{ source('platform', 'course_items') }}
),

renamed as (
    select
        source.submission_id,
        source.learner_id,
        source.item_id,
        source.attempt_number,
        cast(source.score as numeric) as score,
        source.submitted_at,
        known_learners.learner_id is null as is_orphan_learner,
        known_items.item_id is null as is_orphan_item,
        row_number() over (
            partition by source.submission_id
            order by row(source.*)
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
    left join known_items on source.item_id = known_items.item_id
),

checked as (
    select
        submission_id,
        learner_id,
        item_id,
        attempt_number,
        score,
        submitted_at,
        case
            when submission_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when is_orphan_item then 'orphan_item'
            when score is null then 'missing_value'
            when score < 0 or score > 1 then 'out_of_range'
            when attempt_number is null or attempt_number < 1 then 'out_of_range'
            when submitted_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
)

select * from checked
