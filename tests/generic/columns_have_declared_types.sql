{#
    The raw table's columns are exactly the ones its source declares, each of the declared data_type
    (as PostgreSQL's format_type prints it: 'bigint', 'timestamp with time zone', 'character(2)').
    On every source table: a landing table whose shape drifted fails here, before staging reads it,
    and the build skips what is built on it. Fails with one row per column that differs.
#}
{% test columns_have_declared_types(model) %}
{%- set declared = [] %}
{%- if execute %}
    {%- for node in graph.sources.values()
        if node.schema == model.schema and node.identifier == model.identifier %}
        {%- for column in node.columns.values() %}
            {%- do declared.append((column.name, column.data_type)) %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

with

declared_columns as (
    {%- for name, data_type in declared %}
    select
        '{{ name }}' as column_name,
        {{ "'" ~ data_type ~ "'" if data_type else 'cast(null as text)' }} as declared_type
    {% if not loop.last %}union all{% endif %}
    {%- else %}
    select
        cast(null as text) as column_name,
        cast(null as text) as declared_type
    where false
    {%- endfor %}
),

actual_columns as (
    select
        a.attname::text as column_name,
        format_type(a.atttypid, a.atttypmod) as actual_type
    from pg_attribute as a
    where
        a.attrelid = {{ "'" ~ model ~ "'" }}::regclass
        and a.attnum > 0
        and not a.attisdropped
),

compared as (
    select
        coalesce(declared_columns.column_name, actual_columns.column_name) as column_name,
        declared_columns.declared_type,
        actual_columns.actual_type
    from declared_columns
    full outer join actual_columns on declared_columns.column_name = actual_columns.column_name
)

select
    '{{ model.schema }}.{{ model.identifier }}' as source_table,
    column_name,
    declared_type,
    actual_type,
    case
        when actual_type is null then 'declared, missing in the raw table'
        when declared_type is null then 'in the raw table without a declared data_type'
        else 'raw type differs from the declared one'
    end as problem
from compared
where declared_type is distinct from actual_type

{% endtest %}
