{#-
    The coaching segments, given as the list of ref()s of their models (the registry, kept in
    int_coaching_segments_unioned), stacked in one shape: learner_id, course_id, segment,
    reason_detail. A segment's name is its model name without `int_coaching_segment_`; a model
    without one of the three columns stops the build naming it (macro require_columns).
-#}
{% macro union_coaching_segments(segments) -%}
    {%- set segment_columns = ['learner_id', 'course_id', 'reason_detail'] %}
    {%- for segment in registry_members(segments, 'int_coaching_segment_', 'coaching segment') %}
    {{- require_columns(segment.model, segment_columns, 'coaching segment ' ~ segment.key) }}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        learner_id,
        course_id,
        '{{ segment.key }}' as segment,
        reason_detail
    from {{ segment.relation }}
    {%- endfor %}
{%- endmacro %}
