{#
    The proficiency level of a 0..1 proficiency: beginner below 0.4, intermediate from 0.4,
    advanced from 0.6, expert from 0.8 (learner_skill_benchmarks.level; see docs/recommendations.md).
#}
{% macro skill_level(proficiency) -%}
    case
        when {{ proficiency }} >= 0.8 then 'expert'
        when {{ proficiency }} >= 0.6 then 'advanced'
        when {{ proficiency }} >= 0.4 then 'intermediate'
        else 'beginner'
    end
{%- endmacro %}
