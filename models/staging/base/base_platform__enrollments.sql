-- Every raw enrolment row with the reason it is quarantined (null = valid).
with

source as (
    select * from {{ source('platform', 'enrollments') }}
),

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

known_courses as (
    select distinct course_id from {{ source('platform', 'courses') }}
),

renamed as (
    select
        source.enrollment_id,
        source.learner_id,
        source.course_id,
        source.enrolled_at,
        source.unenrolled_at,
        lower(coalesce(source.source, 'other')) as enrollment_source,
        known_learners.learner_id is null as is_orphan_learner,
        known_courses.course_id is null as is_orphan_course,
        row_number() over (
            partition by source.enrollment_id order by row(source.*)
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
    left join known_courses on source.course_id = known_courses.course_id
),

checked as (
    select
        enrollment_id,
        learner_id,
        course_id,
        enrolled_at,
        unenrolled_at,
        enrollment_source,
        case
            when enrollment_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when is_orphan_course then 'orphan_course'
            when enrolled_at is null then 'missing_timestamp'
            when unenrolled_at < enrolled_at then 'inconsistent_timestamps'
            when enrollment_source not in ('search', 'browse', 'recommendation', 'coach', 'other') then 'invalid_value'
        end as quarantine_reason
    from renamed
)

select * from checked
