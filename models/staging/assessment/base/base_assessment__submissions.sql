-- Every raw submission row with the reason it is quarantined (null = valid).
-- A submission delivered twice: the later submitted_at wins, ties broken by the other columns.
with

source as (
    select * from {{ source('assessment', 'assessment_submissions') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

renamed as (
    select
        submission_id,
        learner_id,
        item_id,
        attempt_number,
        cast(score as numeric) as score,
        submitted_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.submission_id is null then 'missing_key'
            when renamed.submission_id < 1 then 'out_of_range'
            when learners.learner_id is null then 'orphan_learner'
            when items.item_id is null then 'orphan_item'
            when renamed.score is null or renamed.attempt_number is null then 'missing_value'
            when renamed.score < 0 or renamed.score > 1 then 'out_of_range'
            {{ implausible_integers(['renamed.attempt_number']) }}
            when renamed.submitted_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.submitted_at']) }}
            {{ before_signup('renamed.submitted_at') }}
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join items on renamed.item_id = items.item_id
),

ranked as (
    {{ ranked_copies('row_checked', ['submission_id'], [
        'submitted_at desc', 'learner_id asc', 'item_id asc', 'attempt_number asc', 'score asc',
    ]) }}
),

checked as (
    select
        submission_id,
        learner_id,
        item_id,
        attempt_number,
        score,
        submitted_at,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
