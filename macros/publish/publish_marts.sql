{#
    Write-audit-publish.

    Marts are built into private audit schemas (audit_core, audit_experimentation, ...), where dbt
    runs their tests. At the end of the invocation (on-run-end) every mart that is ready is moved
    to its consumer schema (config meta.publish_schema): a rename, not a copy, so publishing costs
    the same for any size of mart; its audit name becomes a view on the published version. A mart
    is ready when its build succeeded, its own tests all ran and passed in this invocation, no
    other test reading it failed, and no source it is built on failed its reconciliation (tests
    tagged `reconciliation`).

    A product (one consumer schema) is published in ONE transaction: its ready marts are all
    swapped in together, so a consumer never sees two builds mixed within a product, even when the
    build is killed mid-publish. A mart that is not ready keeps its last good version (the product
    then holds that one beside the new versions of the others).

    Every mart of the invocation that is not published is logged by name with its reason, and the
    run ends with one line: `Publish summary: published N, held N, skipped N` (held: built but not
    published; skipped: not built because something upstream failed).

    Locks: the swap needs ACCESS EXCLUSIVE on what consumers read, and every reader that arrives
    while the publisher waits for it queues behind it. So the new versions are moved in first, under
    names consumers do not read; then the product's locks are requested within a budget of
    var('publish_lock_timeout_ms') for all of them together, so no reader waits longer than that
    behind the publisher. When the budget runs out (a reader left a transaction open after reading
    a mart), the publisher lets go of every lock, waits (var('publish_lock_backoff_ms'), doubling)
    and tries again, var('publish_lock_attempts') times in all. A product still not locked is not
    published: its marts are logged `NOT published ... (lock: ...)` naming the session that holds
    the lock, the other products are published, and the hook fails so `dbt build` (and `lp run`)
    exits non-zero. Consumers keep reading the last good version throughout.

    Published relations: <schema>.<mart>_v<N> for every version, plus <schema>.<mart>, a view on
    the latest version. The read-only role gets SELECT on exactly those.
#}
{% macro publish_marts(results) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set outcome = {} -%}
    {%- for result in results -%}
        {%- do outcome.update({result.node.unique_id: result.status | string}) -%}
    {%- endfor -%}

    {%- set ready = {} -%}
    {%- set held = [] -%}
    {%- set skipped = [] -%}
    {%- for result in results if result.node.resource_type == 'model' and result.node.config.meta.get('publish_schema') -%}
        {%- set node = result.node -%}
        {%- set publish_schema = node.config.meta.get('publish_schema') -%}
        {%- set label = publish_schema ~ '.' ~ node.alias -%}
        {%- set status = result.status | string -%}
        {%- if status == 'success' -%}
            {%- set problems = mart_test_problems(node, outcome) + unreconciled_sources(node, outcome) -%}
            {%- if problems -%}
                {%- do held.append(label ~ ' (' ~ problems | join('; ') ~ ')') -%}
            {%- else -%}
                {%- do ready.setdefault(publish_schema, []).append(node) -%}
            {%- endif -%}
        {%- elif status == 'skipped' -%}
            {%- set causes = unreconciled_sources(node, outcome) + upstream_failures(node, outcome) -%}
            {%- do skipped.append(label ~ ' (skipped: ' ~ (causes | join('; ') if causes else 'not run') ~ ')') -%}
        {%- else -%}
            {#- dbt's message: "Database Error in model ...", the database's words, where the compiled code is -#}
            {%- set lines = [] -%}
            {%- for line in ((result.message or status) | string).splitlines()
                if line.strip() and not line.strip().startswith('compiled code at') -%}
                {%- do lines.append(line.strip()) -%}
            {%- endfor -%}
            {%- do held.append(label ~ ' (mart ' ~ status ~ ': ' ~ (lines[:2] | join(': '))[:300] ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set published = [] -%}
    {%- set not_locked = [] -%}
    {%- for publish_schema in ready.keys() | sort -%}
        {%- set nodes = ready[publish_schema] -%}
        {%- set refused = publish_product(publish_schema, nodes) -%}
        {%- for node in nodes -%}
            {%- if refused -%}
                {%- do held.append(publish_schema ~ '.' ~ node.alias ~ ' (lock: ' ~ refused ~ ')') -%}
                {%- do not_locked.append(publish_schema ~ '.' ~ node.alias) -%}
            {%- else -%}
                {%- do published.append(publish_schema ~ '.' ~ node.alias) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- if published -%}
        {{ log('Published ' ~ published | length ~ ' mart(s): ' ~ published | join(', '), info=true) }}
    {%- endif -%}
    {%- for item in held + skipped -%}
        {{ log('NOT published (consumers keep the last good version): ' ~ item, info=true) }}
    {%- endfor -%}
    {%- if published or held or skipped -%}
        {{ log('Publish summary: published ' ~ published | length ~ ', held ' ~ held | length ~ ', skipped ' ~ skipped | length, info=true) }}
    {%- endif -%}
    {%- if not_locked -%}
        {#- the hook fails (so does the build): a mart that passed its tests could not be published -#}
        {{ return('do $failed$ begin raise exception \'%\', ' ~ sql_string('NOT published, its consumers hold a lock (see the NOT published lines): ' ~ not_locked | join(', ')) ~ '; end $failed$') }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro mart_test_problems(node, outcome) %}
    {#- The mart's own tests must all run and pass; another test that reads the mart (e.g. a
        relationships test of a downstream mart) holds it back only when it fails -#}
    {%- set failed = [] -%}
    {%- set not_run = [] -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and node.unique_id in test.depends_on.nodes -%}
        {%- set status = outcome.get(test.unique_id) -%}
        {%- set is_own_test = test.attached_node == node.unique_id -%}
        {%- if status in ('fail', 'error') -%}
            {%- do failed.append(test.name ~ ' ' ~ status) -%}
        {%- elif is_own_test and status not in ('pass', 'warn') -%}
            {%- do not_run.append(test.name ~ (' ' ~ status if status else unselected_parents(test, outcome))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set problems = [] -%}
    {%- if failed -%}{%- do problems.append('test failed: ' ~ failed | join(', ')) -%}{%- endif -%}
    {%- if not_run -%}{%- do problems.append('test did not run: ' ~ not_run | join(', ')) -%}{%- endif -%}
    {{ return(problems) }}
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


{% macro upstream_nodes(node) %}
    {#- unique_ids of every model, seed and snapshot the node is built on, directly or not -#}
    {%- set found = [] -%}
    {%- set queue = node.depends_on.nodes | list -%}
    {%- for unique_id in queue if unique_id not in found and unique_id in graph.nodes -%}
        {%- do found.append(unique_id) -%}
        {%- do queue.extend(graph.nodes[unique_id].depends_on.nodes) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}


{% macro unreconciled_sources(node, outcome) %}
    {#- The sources the node is built on whose reconciliation (a test tagged `reconciliation`,
        attached to the source's base model) failed in this invocation, each with its test and
        the recovery command -#}
    {%- set upstream = upstream_nodes(node) -%}
    {%- set found = [] -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and 'reconciliation' in test.tags
            and outcome.get(test.unique_id) in ('fail', 'error') and test.attached_node in upstream -%}
        {%- set sources = [] -%}
        {%- for parent in test.depends_on.nodes if parent in graph.sources -%}
            {%- do sources.append(graph.sources[parent].schema ~ '.' ~ graph.sources[parent].identifier) -%}
        {%- endfor -%}
        {%- set base = graph.nodes[test.attached_node].name -%}
        {%- do found.append('source ' ~ (sources | join(', ') or base) ~ ' does not reconcile: ' ~ test.name ~ ' '
            ~ outcome[test.unique_id] ~ ', rebuild with lp rebuild -s ' ~ base) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}


{% macro upstream_failures(node, outcome) %}
    {#- Why dbt skipped the node: what it is built on that errored, and the failing tests of what it
        is built on (dbt build skips what is downstream of a failing test); reconciliation tests
        are named by unreconciled_sources -#}
    {%- set upstream = upstream_nodes(node) -%}
    {%- set found = [] -%}
    {%- for unique_id in upstream if outcome.get(unique_id) == 'error' -%}
        {%- set model = graph.nodes[unique_id] -%}
        {%- set versioned = model.resource_type == 'model' and model.get('version') is not none -%}
        {%- do found.append(model.name ~ ('.v' ~ model.version if versioned else '') ~ ' error') -%}
    {%- endfor -%}
    {%- for test in graph.nodes.values()
        if test.resource_type == 'test' and outcome.get(test.unique_id) in ('fail', 'error')
            and 'reconciliation' not in test.tags -%}
        {%- for parent in test.depends_on.nodes if parent in upstream -%}
            {%- if loop.first -%}{%- do found.append(test.name ~ ' ' ~ outcome[test.unique_id]) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if found -%}
        {{ return(['upstream failed: ' ~ found | join(', ')]) }}
    {%- endif -%}
    {{ return([]) }}
{% endmacro %}


{% macro publish_product(publish_schema, nodes) %}
    {#-
        Publishes a product's ready marts in one transaction, so consumers see the last good
        versions or the new ones, never a mix of two builds, a partial or a missing one, and a
        reader never errors. Returns '' when published, else why not (the transaction is rolled
        back: nothing changed for consumers, and the audited marts are back in their audit schema).
        1. lock the audited marts (within the lock budget, like step 2), then move each into its
           consumer schema as <alias>__publishing, with its key, constraints, indexes and
           statistics (publish_stage: renames, no copy of the data; no lock on anything
           consumers read);
        2. lock what consumers read, per mart the unversioned view FIRST and then the table (the
           order a reader of the view locks them), within the lock budget, retried with backoff
           (publish_locks);
        3. swap each mart: current table -> <alias>__retired, new table -> <alias>, repoint the
           view with CREATE OR REPLACE (it keeps its identity and grants), drop the retired
           table; commit.
        A reader queued behind a lock re-resolves the names after the commit (PostgreSQL repeats
        the name lookup when invalidations arrived while it waited), so it reads the new version
        instead of failing on a dropped relation. Nothing is dropped while a reader could still
        reach it by name.
        The move and the swap are two statements of one transaction on one connection: a build
        killed between them leaves the transaction to roll back; the swap and its commit travel
        in one message, which the server completes even if the client dies meanwhile.
    -#}
    {%- set schema_q = adapter.quote(publish_schema) -%}
    {%- set audited = [] -%}
    {%- for node in nodes -%}
        {%- do audited.append(adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias)) -%}
    {%- endfor -%}
    {#- the audited tables are locked before anything else of the transaction, within the same
        budget: renaming one waits for whoever reads it (e.g. in an open transaction), and
        nothing the publisher changed can be what such a session waits for -#}
    {%- set refused = publish_then_lock('begin;', audited) -%}
    {%- if refused -%}{{ return(refused) }}{%- endif -%}
    {%- set targets = [] -%}
    {%- set stage_sql -%}
        create schema if not exists {{ schema_q }};
        grant usage on schema {{ schema_q }} to {{ var('reader_role') }};
        {% for node in nodes -%}
        {{ publish_stage(node, publish_schema) }}
        {%- if node.version is not none and (node.version | string) == (node.latest_version | string) -%}
            {%- do targets.append(schema_q ~ '.' ~ adapter.quote(node.name)) -%}
        {%- endif -%}
        {%- do targets.append(schema_q ~ '.' ~ adapter.quote(node.alias)) -%}
        {% endfor %}
    {%- endset -%}
    {%- set refused = publish_then_lock(stage_sql, targets) -%}
    {%- if refused -%}{{ return(refused) }}{%- endif -%}
    {%- set swap_sql -%}
        {% for node in nodes -%}
        {{ publish_swap(node, publish_schema) }}
        {% endfor -%}
        commit;
    {%- endset -%}
    {%- do run_query(swap_sql) -%}
    {{ return('') }}
{% endmacro %}


{% macro publish_then_lock(sql, targets) %}
    {#- Runs sql in the product's transaction, then takes the locks on targets (publish_locks);
        returns '' when all are held, else why not, after rolling the transaction back -#}
    {%- set statements -%}
        {{ sql }}
        {{ publish_locks(targets) }}
        select current_setting('lp.publish_refused') as refused;
    {%- endset -%}
    {%- set refused = run_query(statements).columns[0].values()[0] -%}
    {%- if refused -%}
        {%- do run_query('rollback') -%}
    {%- endif -%}
    {{ return(refused) }}
{% endmacro %}


{% macro publish_stage(node, publish_schema) %}
    {#- The audited mart moved into its consumer schema as <alias>__publishing, with its key,
        constraints, indexes and statistics, plus its comment and the reader's grant (inside the
        product's transaction). Moving renames catalogue entries and copies no data, so publishing
        costs the same for any size of mart; the mart keeps the order its model stored it in
        (course_recommendations: key order, for per-learner lookups). Its audit name becomes a
        view on it, so what reads the mart's audit relation (a partial build's tests, deferred
        slim CI, the docs catalog) reads the published version until the next build of the mart
        replaces the view with a new audit table. -#}
    {%- set audit_relation = adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias) -%}
    {%- set schema_q = adapter.quote(publish_schema) -%}
    {%- set staging_name = node.alias ~ '__publishing' -%}
    {%- set staging = schema_q ~ '.' ~ adapter.quote(staging_name) -%}
    drop table if exists {{ staging }};
    drop table if exists {{ schema_q }}.{{ adapter.quote(node.alias ~ '__retired') }};
    do $logged$ begin
        -- consumers read logged tables (marts are built logged: dbt_project.yml); one built
        -- unlogged by an override is made durable here
        if (
            select relpersistence from pg_catalog.pg_class where oid = to_regclass({{ sql_string(audit_relation) }})
        ) = 'u' then
            alter table {{ audit_relation }} set logged;
        end if;
    end $logged$;
    {{ publish_index_names(audit_relation, staging_name) }}
    alter table {{ audit_relation }} rename to {{ adapter.quote(staging_name) }};
    alter table {{ adapter.quote(node.schema) }}.{{ adapter.quote(staging_name) }} set schema {{ schema_q }};
    {% if mart_primary_key(node) -%}
    do $key$ begin
        if not exists (
            select from pg_catalog.pg_index where indrelid = to_regclass({{ sql_string(staging) }}) and indisprimary
        ) then
            alter table {{ staging }} add constraint {{ adapter.quote(staging_name ~ '_pkey') }}
                primary key ({{ mart_primary_key(node) | join(', ') }});
        end if;
    end $key$;
    {%- endif %}
    -- built with autovacuum off (dbt_project.yml): a vacuum holding the audited table while
    -- waiting for a catalogue row the publisher changed deadlocked with the publisher
    alter table {{ staging }} reset (autovacuum_enabled);
    comment on table {{ staging }} is {{ sql_string(node.description | trim ~ ' Published after all its tests passed.') }};
    grant select on {{ staging }} to {{ var('reader_role') }};
    create view {{ audit_relation }} as select * from {{ staging }};
    comment on view {{ audit_relation }} is {{ sql_string(
        'The published ' ~ publish_schema ~ '.' ~ node.alias ~ ', moved there from here by publishing; the next build of '
        ~ node.name ~ ' replaces this view with its new audit table.') }};
{% endmacro %}


{% macro publish_index_names(relation, prefix) %}
    {#- A DO block renaming every index of a table after a prefix: the primary key
        <prefix>_pkey (its constraint follows), the others <prefix>_idx_<n> in the order they
        were made. Index names are unique per schema, so a new version is named apart from the
        current one before both meet in the consumer schema. -#}
    do $index_names$
    declare
        found record;
        n int := 0;
    begin
        for found in
            select ind.indexrelid::regclass as index_name, ind.indisprimary as is_primary
            from pg_catalog.pg_index as ind
            where ind.indrelid = to_regclass({{ sql_string(relation) }})
            order by ind.indisprimary desc, ind.indexrelid
        loop
            if found.is_primary then
                execute format('alter index %s rename to %I', found.index_name, {{ sql_string(prefix) }} || '_pkey');
            else
                n := n + 1;
                execute format('alter index %s rename to %I', found.index_name, {{ sql_string(prefix) }} || '_idx_' || n);
            end if;
        end loop;
    end
    $index_names$;
{% endmacro %}


{% macro publish_locks(targets) %}
    {#-
        ACCESS EXCLUSIVE locks on the relations consumers read (those that exist), in the order
        given, all within var('publish_lock_timeout_ms') per attempt: each lock's lock_timeout is
        what is left of the attempt's budget, so a reader queued behind the publisher waits at
        most that long. An attempt that runs out of budget (or is chosen as a deadlock victim)
        lets go of every lock it took (its subtransaction rolls back), sleeps
        var('publish_lock_backoff_ms'), doubled after each attempt, and tries again. Keeping the
        budget at or below PostgreSQL's deadlock_timeout (1 s by default) lets the publisher give
        up before a consumer transaction that reads two marts of a product would be chosen as a
        deadlock victim. Sets lp.publish_refused to '' when locked, else to what was not locked
        and which sessions hold it.
    -#}
    {%- set budget = var('publish_lock_timeout_ms') | int -%}
    {%- set attempts = var('publish_lock_attempts') | int -%}
    {%- set backoff = var('publish_lock_backoff_ms') | int -%}
    do $publish_locks$
    declare
        budget_ms constant int := {{ budget }};
        started timestamptz;
        remaining int;
        target text;
        holders text;
    begin
        perform set_config('lp.publish_refused', '', false);
        for attempt in 1..{{ [attempts, 1] | max }} loop
            begin
                started := clock_timestamp();
                foreach target in array {{ sql_string_array(targets) }} loop
                    if to_regclass(target) is not null then
                        remaining := budget_ms - floor(extract(epoch from clock_timestamp() - started) * 1000)::int;
                        if remaining < 1 then
                            raise exception using errcode = 'lock_not_available', message = 'lock budget spent';
                        end if;
                        perform set_config('lock_timeout', remaining || 'ms', true);
                        execute format('lock table %s in access exclusive mode', target);
                    end if;
                end loop;
                -- the swap only renames what is locked now; bound any other wait all the same
                perform set_config('lock_timeout', budget_ms || 'ms', true);
                return;
            exception when lock_not_available or deadlock_detected then
                if attempt = {{ [attempts, 1] | max }} then
                    select string_agg(
                        format('pid %s (%s, %s for %s s)', activity.pid, activity.usename, activity.state,
                            floor(extract(epoch from clock_timestamp() - coalesce(activity.xact_start, activity.query_start)))),
                        ', ' order by activity.pid)
                    into holders
                    from pg_catalog.pg_locks as held_lock
                    inner join pg_catalog.pg_stat_activity as activity on held_lock.pid = activity.pid
                    where held_lock.locktype = 'relation' and held_lock.granted
                        and held_lock.relation = to_regclass(target) and held_lock.pid <> pg_backend_pid();
                    perform set_config('lp.publish_refused', format(
                        'could not lock %s within %s ms in %s attempts; held by %s',
                        target, budget_ms, attempt, coalesce(holders, 'a session that has let go since')), false);
                    return;
                end if;
                perform pg_sleep({{ backoff }} * power(2, attempt - 1) / 1000.0);
            end;
        end loop;
    end
    $publish_locks$;
{% endmacro %}


{% macro publish_swap(node, publish_schema) %}
    {#- The new version of one mart swapped in under the locks publish_locks took (inside the
        product's transaction) -#}
    {%- set schema_q = adapter.quote(publish_schema) -%}
    {%- set target = schema_q ~ '.' ~ adapter.quote(node.alias) -%}
    {%- set staging_name = node.alias ~ '__publishing' -%}
    {%- set staging = schema_q ~ '.' ~ adapter.quote(staging_name) -%}
    {%- set retired_name = node.alias ~ '__retired' -%}
    {%- set retired = schema_q ~ '.' ~ adapter.quote(retired_name) -%}
    do $retire$ begin
        if to_regclass({{ sql_string(target) }}) is not null then
            alter table {{ target }} rename to {{ adapter.quote(retired_name) }};
        end if;
    end $retire$;
    alter table {{ staging }} rename to {{ adapter.quote(node.alias) }};
    {#- the retired version still holds the final index names until it is dropped -#}
    {{ publish_index_names(target, node.alias ~ '__next') }}
    {{ publish_latest_view(node, publish_schema) }}
    drop table if exists {{ retired }} cascade;
    {{ publish_index_names(target, node.alias) }}
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
