{#
    A partial build does not drop the views it did not select.

    dbt on PostgreSQL rebuilds a table (or view) under a temporary name, renames the old relation to
    a backup and drops the backup with CASCADE. A view binds to a relation, not to its name, so every
    view reading the old relation follows it to the backup and is dropped with it. A full build
    recreates them all; a partial one did not: `dbt build -s +dim_courses` rebuilt
    base_platform__courses, dropped staging.quarantined_rows (not selected) and then failed the
    reconciliation test on a relation that no longer existed.

    - save_dependent_views() (on-run-start, before any model runs) records the definition of every
      view that reads a relation this invocation selects, directly or through other views, and that
      it does not select itself (a selected view is dbt's to build), with its comments and grants,
      in <target schema>.dbt_dependent_views.
    - recreate_dropped_views() (a post-hook of every model, after its commit and the drop of its old
      relation, so the tests that follow find the views) recreates, in dependency order, each
      recorded view that is gone, in a transaction of its own.
    - restore_dependent_views() (on-run-end) recreates what is still missing (a view on a view
      that was built later), logs every view recreated or not, and empties the table. A view that
      no longer fits what it reads (a column it uses is gone) is not recreated: the log says why,
      and building its model recreates it. A build killed in between leaves the definitions in
      the table: the next one recreates what is still missing.
    Definitions are read on-run-start, while no model runs: reading one locks the relations the
    view reads, which inside a model's transaction deadlocked two base tables rebuilt side by side.
#}

{% macro dependent_views_table() %}
    {{- return(adapter.quote(target.schema) ~ '.dbt_dependent_views') -}}
{% endmacro %}


{% macro rebuilds_relations() %}
    {#- whether this dbt command builds relations (docs generate and compile run on-run-start too) -#}
    {{- return(execute and flags.WHICH in ('run', 'build', 'seed', 'snapshot')) -}}
{% endmacro %}


{% macro save_dependent_views() %}
    {%- if not rebuilds_relations() -%}{{ return('') }}{%- endif -%}
    {%- set rebuilt = [] -%}
    {%- set selected = [] -%}
    {%- for node in graph.nodes.values() if node.unique_id in selected_resources and node.resource_type in ('model', 'seed', 'snapshot') -%}
        {%- if node.relation_name -%}{%- do rebuilt.append(node.relation_name) -%}{%- endif -%}
        {%- do selected.append(node.schema ~ '.' ~ (node.alias or node.name)) -%}
    {%- endfor -%}
    {%- set table = dependent_views_table() -%}
    {%- set sql -%}
        begin;
        create schema if not exists {{ adapter.quote(target.schema) }};
        create table if not exists {{ table }} (
            view_schema text not null,
            view_name text not null,
            depth int not null,
            statements text[] not null,
            rebuilt text not null,
            saved_at timestamptz not null default clock_timestamp(),
            outcome text
        );
        comment on table {{ table }} is
            'Views a partial dbt build drops with a relation it rebuilds, recreated after the rebuild (macros/dependent_views.sql).';
        -- a build killed before its on-run-end leaves its record: what this one selects is dbt's
        delete from {{ table }} where view_schema || '.' || view_name = any({{ sql_string_array(selected) }});
        insert into {{ table }} (view_schema, view_name, depth, statements, rebuilt)
        with recursive rebuilt as (
            select to_regclass(name) as relation_oid, to_regclass(name)::text as name
            from unnest({{ sql_string_array(rebuilt) }}) as name
            where to_regclass(name) is not null
        ),

        dependents (view_oid, depth, rebuilt) as (
            select rw.ev_class, 1, rebuilt.name
            from rebuilt
            inner join pg_depend as dep on dep.refclassid = 'pg_class'::regclass and dep.refobjid = rebuilt.relation_oid
            inner join pg_rewrite as rw on dep.classid = 'pg_rewrite'::regclass and dep.objid = rw.oid
            where rw.ev_class <> dep.refobjid
            union
            select rw.ev_class, dependents.depth + 1, dependents.rebuilt
            from dependents
            inner join pg_depend as dep on dep.refclassid = 'pg_class'::regclass and dep.refobjid = dependents.view_oid
            inner join pg_rewrite as rw on dep.classid = 'pg_rewrite'::regclass and dep.objid = rw.oid
            where rw.ev_class <> dependents.view_oid
        ),

        views as (
            select view_oid, max(depth) as depth, string_agg(distinct rebuilt, ', ') as rebuilt
            from dependents
            group by view_oid
        )

        select
            ns.nspname,
            cls.relname,
            views.depth,
            array[format('create view %I.%I as %s', ns.nspname, cls.relname, pg_get_viewdef(cls.oid))]
            || case
                when obj_description(cls.oid, 'pg_class') is not null
                    then array[format('comment on view %I.%I is %L', ns.nspname, cls.relname, obj_description(cls.oid, 'pg_class'))]
                else '{}'
            end
            || coalesce((
                select array_agg(format('comment on column %I.%I.%I is %L', ns.nspname, cls.relname, att.attname, col_description(cls.oid, att.attnum)))
                from pg_attribute as att
                where att.attrelid = cls.oid and att.attnum > 0 and not att.attisdropped and col_description(cls.oid, att.attnum) is not null
            ), '{}')
            || coalesce((
                select array_agg(format('grant %s on %I.%I to %s', acl.privilege_type, ns.nspname, cls.relname,
                                        case when acl.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(acl.grantee)) end))
                from aclexplode(cls.relacl) as acl
                where acl.grantee <> cls.relowner
            ), '{}'),
            views.rebuilt
        from views
        inner join pg_class as cls on views.view_oid = cls.oid
        inner join pg_namespace as ns on cls.relnamespace = ns.oid
        where cls.relkind = 'v' and cls.oid not in (select rebuilt.relation_oid from rebuilt);
        commit;
    {%- endset -%}
    {%- do run_query(sql) -%}
    {{ return('') }}
{% endmacro %}


{% macro recreate_dropped_views() %}
    {#- SQL: recreate each recorded (so unselected) view that is gone; a model's post-hook (after
        its commit and the drop of its old relation, so the tests after it find the view) -#}
    {%- if not rebuilds_relations() -%}{{ return('') }}{%- endif -%}
    {%- set table = dependent_views_table() -%}
    begin;
    do $recreate$
    declare
        saved record;
        statement text;
    begin
        if to_regclass({{ sql_string(table) }}) is null then
            return;
        end if;
        for saved in
            -- the latest definition of each view, the deepest last (a view on a view is recreated
            -- after the view it reads)
            with latest as (
                select distinct on (view_schema, view_name) view_schema, view_name, statements
                from {{ table }}
                order by view_schema, view_name, saved_at desc
            ),

            deepest as (
                select view_schema, view_name, max(depth) as depth
                from {{ table }}
                group by view_schema, view_name
            )

            select latest.view_schema, latest.view_name, latest.statements
            from latest
            inner join deepest using (view_schema, view_name)
            order by deepest.depth, latest.view_schema, latest.view_name
        loop
            continue when to_regclass(format('%I.%I', saved.view_schema, saved.view_name)) is not null;
            begin
                foreach statement in array saved.statements loop
                    execute statement;
                end loop;
                update {{ table }} set outcome = 'recreated'
                where view_schema = saved.view_schema and view_name = saved.view_name;
            exception when others then
                -- another model's post-hook may have recreated it meanwhile
                if to_regclass(format('%I.%I', saved.view_schema, saved.view_name)) is null then
                    update {{ table }}
                    set outcome = 'not recreated: ' || sqlerrm || ' (dbt build -s ' || saved.view_name || ' rebuilds it)'
                    where view_schema = saved.view_schema and view_name = saved.view_name;
                end if;
            end;
        end loop;
    end
    $recreate$;
    commit;
{%- endmacro %}


{% macro restore_dependent_views() %}
    {#- on-run-end: recreate what is still missing, log every view recreated or not, empty the table -#}
    {%- if not rebuilds_relations() -%}{{ return('') }}{%- endif -%}
    {%- set table = dependent_views_table() -%}
    {%- do run_query(recreate_dropped_views()) -%}
    {%- set outcomes = run_query(
        "select view_schema || '.' || view_name, string_agg(distinct rebuilt, ', '), min(outcome) from " ~ table
        ~ " where outcome is not null group by 1 order by 1"
    ) -%}
    {%- for row in outcomes.rows -%}
        {{ log('View ' ~ row[0] ~ ' (not selected; reads the rebuilt ' ~ row[1] ~ '), dropped by the rebuild: ' ~ row[2], info=true) }}
    {%- endfor -%}
    {%- do run_query("begin; delete from " ~ table ~ "; commit;") -%}
    {{ return('') }}
{% endmacro %}


{% macro sql_string_array(values) %}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append(sql_string(value)) -%}
    {%- endfor -%}
    {{- return('array[' ~ quoted | join(', ') ~ ']::text[]') -}}
{% endmacro %}
