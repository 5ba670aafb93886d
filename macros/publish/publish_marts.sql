{#
    Write-audit-publish.

    Marts are built into private audit schemas (audit_core, audit_experimentation, ...), where dbt
    runs their tests. At the end of the invocation (on-run-end) every mart whose build succeeded
    and whose own tests all ran and passed in this invocation (and no other test reading it failed) is copied to its consumer schema
    (config meta.publish_schema) in one transaction per mart: consumers see either the last good
    version or the new one, never a partial or failed one. A mart with a failing or missing test
    is not published and its consumer relation stays as it was.

    Published relations: <schema>.<mart>_v<N> for every version, plus <schema>.<mart>, a view on
    the latest version. The read-only role gets SELECT on exactly those.
#}
{% macro publish_marts(results) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set outcome = {} -%}
    {%- for result in results -%}
        {%- do outcome.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}

    {%- set published = [] -%}
    {%- set withheld = [] -%}
    {%- for result in results if result.node.resource_type == 'model' -%}
        {%- set node = result.node -%}
        {%- set publish_schema = node.config.meta.get('publish_schema') -%}
        {%- if publish_schema and (result.status | string) == 'success' -%}
            {%- set problems = [] -%}
            {%- for test in graph.nodes.values()
                if test.resource_type == 'test' and node.unique_id in test.depends_on.nodes -%}
                {%- set status = outcome.get(test.unique_id) -%}
                {%- set is_own_test = test.attached_node == node.unique_id -%}
                {#- the mart's own tests must all run and pass; another test that reads the mart
                    (e.g. a relationships test of a downstream mart) blocks only when it fails -#}
                {%- if status in ('fail', 'error') or (is_own_test and status not in ('pass', 'warn')) -%}
                    {%- do problems.append(test.name ~ ' ' ~ (status or 'did not run')) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if problems -%}
                {%- do withheld.append(node.alias ~ ' (' ~ problems | join(', ') ~ ')') -%}
            {%- else -%}
                {%- do publish_mart(node, publish_schema) -%}
                {%- do published.append(publish_schema ~ '.' ~ node.alias) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if published -%}
        {{ log('Published ' ~ published | length ~ ' mart(s): ' ~ published | join(', '), info=true) }}
    {%- endif -%}
    {%- for item in withheld -%}
        {{ log('NOT published (consumers keep the last good version): ' ~ item, info=true) }}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}


{% macro publish_mart(node, publish_schema) %}
    {%- set reader = var('reader_role') -%}
    {%- set source_relation = adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias) -%}
    {%- set target = adapter.quote(publish_schema) ~ '.' ~ adapter.quote(node.alias) -%}
    {%- set staging_name = node.alias ~ '__publishing' -%}
    {%- set staging = adapter.quote(publish_schema) ~ '.' ~ adapter.quote(staging_name) -%}
    {%- set primary_key = mart_primary_key(node) -%}
    {%- set sql -%}
        begin;
        create schema if not exists {{ adapter.quote(publish_schema) }};
        grant usage on schema {{ adapter.quote(publish_schema) }} to {{ reader }};
        drop table if exists {{ staging }};
        create table {{ staging }}
            (like {{ source_relation }} including defaults including constraints including comments);
        insert into {{ staging }} select * from {{ source_relation }};
        drop table if exists {{ target }} cascade;
        alter table {{ staging }} rename to {{ adapter.quote(node.alias) }};
        {% if primary_key -%}
        alter table {{ target }} add constraint {{ adapter.quote(node.alias ~ '_pkey') }}
            primary key ({{ primary_key | join(', ') }});
        {%- endif %}
        {% for index in node.config.get('indexes') or [] -%}
        create {{ 'unique ' if index.get('unique') }}index {{ adapter.quote(node.alias ~ '_idx_' ~ loop.index) }}
            on {{ target }} ({{ index['columns'] | join(', ') }});
        {% endfor -%}
        comment on table {{ target }} is {{ sql_string(node.description | trim ~ ' Published after all its tests passed.') }};
        {{ publish_latest_view(node, publish_schema) }}
        grant select on {{ target }} to {{ reader }};
        analyze {{ target }};
        commit;
    {%- endset -%}
    {%- do run_query(sql) -%}
{% endmacro %}


{% macro mart_primary_key(node) %}
    {%- for constraint in node.constraints if constraint.type == 'primary_key' -%}
        {{ return(constraint.columns) }}
    {%- endfor -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- for constraint in column.constraints if constraint.type == 'primary_key' -%}
            {%- do columns.append(column.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{% macro publish_latest_view(node, publish_schema) %}
    {#- The unversioned name is a view on the latest version, for consumers who always want it. -#}
    {%- if node.version is not none and (node.version | string) == (node.latest_version | string) -%}
        {%- set view = adapter.quote(publish_schema) ~ '.' ~ adapter.quote(node.name) -%}
        drop view if exists {{ view }};
        create view {{ view }} as select * from {{ adapter.quote(publish_schema) }}.{{ adapter.quote(node.alias) }};
        comment on view {{ view }} is {{ sql_string('Latest version (v' ~ node.version ~ ') of ' ~ node.name ~ '.') }};
        grant select on {{ view }} to {{ var('reader_role') }};
    {%- endif -%}
{% endmacro %}


{% macro sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}
