{#
    The reference instant for "now" in marts: var('as_of') when set (tests and backfills pin it),
    else current_timestamp. Use it instead of now()/current_date so results are reproducible.
#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamptz)
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}

{% macro as_of_date() -%}
    cast(({{ as_of() }}) at time zone 'UTC' as date)
{%- endmacro %}
