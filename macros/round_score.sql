{#
    A score rounded to `digits` decimals (default 10), in double precision.

    Producers sum doubles, and the last bits of a sum follow the physical row order of its inputs
    (which an incremental merge or a different plan changes). Ranking on the rounded score makes
    the lists and ranks of two builds of the same data identical. Float arithmetic, not numeric:
    casting millions of scores to numeric and back cost seconds per model.
#}
{% macro round_score(expression, digits=10) -%}
    (round(({{ expression }}) * 1e{{ digits }}) / 1e{{ digits }})
{%- endmacro %}
