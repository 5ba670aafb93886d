{#-
    The statistical settings of the experimentation models (vars, not declared in dbt_project.yml;
    the defaults are GrowthBook's): experiment_alpha, the level of the always-valid interval, and
    experiment_sequential_tuning_parameter, the number of units around which it is tightest.
-#}
{% macro experiment_alpha() -%}
    {{ return(var('experiment_alpha', 0.05)) }}
{%- endmacro %}

{% macro experiment_sequential_tuning() -%}
    {{ return(var('experiment_sequential_tuning_parameter', 5000)) }}
{%- endmacro %}

{#-
    Which of the given column names the relation has (lower case), read from the warehouse when
    dbt executes; at parse time none (the optional columns then render as their defaults).
-#}
{% macro optional_columns(relation, names) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set have = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{ return(names | select('in', have) | list) }}
{%- endmacro %}
