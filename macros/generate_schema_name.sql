{#
    Custom schemas are used as-is (core, experimentation, staging, ...), not prefixed with the
    target schema: consumers and grants rely on stable schema names. Isolation between developers
    is by database (PGDATABASE), not by schema prefix.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
