{#
    The coaching segment registry: every segment targeting reads. Adding a segment is one model
    models/intermediate/coaching/segments/int_coaching_segment_<name>.sql (learner_id, course_id,
    reason_detail; one row per learner x course) plus its name here. Messages target a segment by
    name in the seed `coaching_messages` (column segment). See docs/coaching.md.
#}
{% macro coaching_segments() -%}
    {{ return([
        'new_enrollee',
        'stalled',
        'struggling',
        'near_completion',
        'goal_due',
    ]) }}
{%- endmacro %}
