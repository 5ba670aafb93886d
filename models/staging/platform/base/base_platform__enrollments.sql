-- Every raw enrolment row with the reason it is quarantined (null = valid).
-- A null source is 'other' (the spec's catch-all for an enrolment nobody attributed).
-- An enrolment delivered twice: the latest state wins (an unenrolled copy over an open one, then the
-- later unenrolment and enrolment), ties broken by the other columns.
with

source as (
    select * from {{ source('platform', 'enrollments') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

renamed as (
    select
        enrollment_id,
        learner_id,
        course_id,
        enrolled_at,
        unenrolled_at,
        lower(coalesce(source, 'other')) as enrollment_source
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when renamed.enrollment_id is null then 'missing_key'
            when renamed.enrollment_id < 1 then 'out_of_range'
            when learners.learner_id is null then 'orphan_learner'
            when courses.course_id is null then 'orphan_course'
            when renamed.enrolled_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.enrolled_at', 'renamed.unenrolled_at']) }}
            when renamed.unenrolled_at < renamed.enrolled_at then 'inconsistent_timestamps'
            {{ before_signup('renamed.enrolled_at') }}
            when
                renamed.enrollment_source not in ('search', 'browse', 'recommendation', 'coach', 'other')
                then 'invalid_value'
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join courses on renamed.course_id = courses.course_id
),

ranked as (
    {{ ranked_copies('row_checked', ['enrollment_id'], [
        'unenrolled_at desc nulls last', 'enrolled_at desc', 'learner_id asc', 'course_id asc',
        'enrollment_source asc',
    ]) }}
),

checked as (
    select
        enrollment_id,
        learner_id,
        course_id,
        enrolled_at,
        unenrolled_at,
        enrollment_source,
        {{ version_reason() }} as quarantine_reason
    from ranked
)

select * from checked
