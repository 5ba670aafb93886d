-- One row per learner x course x segment: every segment model of the registry
-- (macros/coaching_segments.sql) stacked, restricted to eligible enrolments (not deleted, enrolled,
-- not finished) whatever the segment model does.
{%- set segment_columns = ['learner_id', 'course_id', 'reason_detail'] %}
with

segments as (
    {% for segment in coaching_segments() %}
    {{- require_columns('int_coaching_segment_' ~ segment, segment_columns, 'coaching segment ' ~ segment) }}
    select
        learner_id,
        course_id,
        '{{ segment }}' as segment,
        reason_detail
    from {{ ref('int_coaching_segment_' ~ segment) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

enrollments as (
    select * from {{ ref('int_coaching_enrollments_eligible') }}
),

eligible_segments as (
    select
        segments.learner_id,
        segments.course_id,
        segments.segment,
        segments.reason_detail
    from segments
    inner join enrollments
        on
            segments.learner_id = enrollments.learner_id
            and segments.course_id = enrollments.course_id
)

select * from eligible_segments
