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
                    {%- do problems.append(test.name ~ ' ' ~ (status or 'did not run' ~ unselected_parents(test, outcome))) -%}
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


{% macro unselected_parents(test, outcome) %}
    {#- Why a test did not run: under buildable selection (lpdata.dbt.INDIRECT_SELECTION) a test
        runs only when every model it reads is selected, so name the ones that were not -#}
    {%- set names = [] -%}
    {%- for parent in test.depends_on.nodes if parent not in outcome and parent in graph.nodes -%}
        {%- set model = graph.nodes[parent] -%}
        {%- set versioned = model.resource_type == 'model' and model.get('version') is not none -%}
        {%- do names.append(model.name ~ ('.v' ~ model.version if versioned else '')) -%}
    {%- endfor -%}
    {%- set names = names | unique | list -%}
    {%- if names -%}
        {{ return(': it also reads ' ~ names | join(', ') ~ ', not selected; add +' ~ names | join(' +') ~ ' to the selection to publish') }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro publish_mart(node, publish_schema) %}
    {#-
        One transaction per mart, so consumers see the last good version or the new one, never a
        partial or missing one, and a reader never errors:
        1. copy the audited mart into <alias>__publishing with its key, indexes and statistics
           (the slow part, while readers keep reading the current version undisturbed);
        2. lock what consumers read, the unversioned view FIRST and then the table (the order a
           reader of the view locks them, so the swap cannot deadlock with a reader);
        3. swap: current table -> <alias>__retired, new table -> <alias>, repoint the view with
           CREATE OR REPLACE (it keeps its identity and grants), drop the retired table.
        A reader queued behind the lock re-resolves the names after the commit (PostgreSQL
        repeats the name lookup when invalidations arrived while it waited), so it reads the new
        version instead of failing on a dropped relation. Nothing is dropped while a reader
        could still reach it by name.
    -#}
    {%- set reader = var('reader_role') -%}
    {%- set source_relation = adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias) -%}
    {%- set schema_q = adapter.quote(publish_schema) -%}
    {%- set target = schema_q ~ '.' ~ adapter.quote(node.alias) -%}
    {%- set staging_name = node.alias ~ '__publishing' -%}
    {%- set staging = schema_q ~ '.' ~ adapter.quote(staging_name) -%}
    {%- set retired_name = node.alias ~ '__retired' -%}
    {%- set retired = schema_q ~ '.' ~ adapter.quote(retired_name) -%}
    {%- set is_latest = node.version is not none and (node.version | string) == (node.latest_version | string) -%}
    {%- set view = schema_q ~ '.' ~ adapter.quote(node.name) -%}
    {%- set primary_key = mart_primary_key(node) -%}
    {%- set indexes = node.config.get('indexes') or [] -%}
    {%- set sql -%}
        begin;
        create schema if not exists {{ schema_q }};
        grant usage on schema {{ schema_q }} to {{ reader }};
        drop table if exists {{ staging }};
        drop table if exists {{ retired }};
        create table {{ staging }}
            (like {{ source_relation }} including defaults including constraints including comments);
        insert into {{ staging }} select * from {{ source_relation }};
        {% if primary_key -%}
        alter table {{ staging }} add constraint {{ adapter.quote(staging_name ~ '_pkey') }}
            primary key ({{ primary_key | join(', ') }});
        {%- endif %}
        {% for index in indexes -%}
        create {{ 'unique ' if index.get('unique') }}index {{ adapter.quote(staging_name ~ '_idx_' ~ loop.index) }}
            on {{ staging }} ({{ index['columns'] | join(', ') }});
        {% endfor -%}
        comment on table {{ staging }} is {{ sql_string(node.description | trim ~ ' Published after all its tests passed.') }};
        grant select on {{ staging }} to {{ reader }};
        analyze {{ staging }};
        {% if is_latest -%}
        do $lock$ begin
            if to_regclass({{ sql_string(view) }}) is not null then
                lock table {{ view }} in access exclusive mode;
            end if;
        end $lock$;
        {%- endif %}
        do $lock$ begin
            if to_regclass({{ sql_string(target) }}) is not null then
                lock table {{ target }} in access exclusive mode;
                alter table {{ target }} rename to {{ adapter.quote(retired_name) }};
            end if;
        end $lock$;
        alter table {{ staging }} rename to {{ adapter.quote(node.alias) }};
        {% if primary_key -%}
        alter table {{ target }} rename constraint {{ adapter.quote(staging_name ~ '_pkey') }} to {{ adapter.quote(node.alias ~ '_pkey__next') }};
        {%- endif %}
        {% for index in indexes -%}
        alter index {{ schema_q }}.{{ adapter.quote(staging_name ~ '_idx_' ~ loop.index) }} rename to {{ adapter.quote(node.alias ~ '_idx_' ~ loop.index ~ '__next') }};
        {% endfor -%}
        {{ publish_latest_view(node, publish_schema) }}
        drop table if exists {{ retired }} cascade;
        {% if primary_key -%}
        alter table {{ target }} rename constraint {{ adapter.quote(node.alias ~ '_pkey__next') }} to {{ adapter.quote(node.alias ~ '_pkey') }};
        {%- endif %}
        {% for index in indexes -%}
        alter index {{ schema_q }}.{{ adapter.quote(node.alias ~ '_idx_' ~ loop.index ~ '__next') }} rename to {{ adapter.quote(node.alias ~ '_idx_' ~ loop.index) }};
        {% endfor -%}
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
    {#- The unversioned name is a view on the latest version, for consumers who always want it.
        CREATE OR REPLACE keeps the view (and readers queued on it) in place; when the latest
        version's columns are incompatible with the old view (a new version), drop and recreate. -#}
    {%- if node.version is not none and (node.version | string) == (node.latest_version | string) -%}
        {%- set view = adapter.quote(publish_schema) ~ '.' ~ adapter.quote(node.name) -%}
        {%- set definition = 'select * from ' ~ adapter.quote(publish_schema) ~ '.' ~ adapter.quote(node.alias) -%}
        do $view$ begin
            begin
                execute {{ sql_string('create or replace view ' ~ view ~ ' as ' ~ definition) }};
            exception when others then
                execute {{ sql_string('drop view if exists ' ~ view) }};
                execute {{ sql_string('create view ' ~ view ~ ' as ' ~ definition) }};
            end;
        end $view$;
        comment on view {{ view }} is {{ sql_string('Latest version (v' ~ node.version ~ ') of ' ~ node.name ~ ': ' ~ node.description | trim) }};
        {#- the view's columns carry the version's column descriptions, as the table's do #}
        do $comments$ declare col record; begin
            for col in
                select att.attname, col_description(att.attrelid, att.attnum) as description
                from pg_attribute as att
                where att.attrelid = to_regclass({{ sql_string(adapter.quote(publish_schema) ~ '.' ~ adapter.quote(node.alias)) }})
                    and att.attnum > 0 and not att.attisdropped
            loop
                -- a null description clears the comment CREATE OR REPLACE VIEW kept (%L of null is NULL)
                execute format('comment on column %s.%I is %L', {{ sql_string(view) }}, col.attname, col.description);
            end loop;
        end $comments$;
        grant select on {{ view }} to {{ var('reader_role') }};
    {%- endif -%}
{% endmacro %}


{% macro sql_string(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}
