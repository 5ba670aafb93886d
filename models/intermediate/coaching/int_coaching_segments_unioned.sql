-- The coaching segment registry: one ref() per segment model, stacked as one row per learner x
-- course x segment and restricted to eligible enrolments (not deleted, enrolled, not finished)
-- whatever the segment model does. Adding a segment is its model
-- segments/int_coaching_segment_<name>.sql plus its line below; messages target it by name in the
-- seed coaching_messages (docs/coaching.md).
{%- set segments = [
    ref('int_coaching_segment_new_enrollee'),
    ref('int_coaching_segment_stalled'),
    ref('int_coaching_segment_struggling'),
    ref('int_coaching_segment_near_completion'),
    ref('int_coaching_segment_goal_due'),
] %}

with

segments as (
    {{ union_coaching_segments(segments) }}
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
