{#
    Experiment metrics kept as experiment × learner state (docs block `experiment_metric_state`).

    A window ends `experiment_window_days` after the learner's first assignment, and a metric's
    value over it depends only on what happened before it ended, so once computed it changes only
    when its inputs do. A metric model (metrics/metric_<key>.sql) is incremental (dbt_project.yml)
    and reads its windows through experiment_metric_windows(): a full build gets every window, a
    daily build only the windows whose value may have changed since the metric's table was written:
    - a window the table does not hold with the same start (it just ended, or an assignment log
      line that landed late moved it);
    - a window with a delivery of its learner that occurred within it (or has no time) and was
      received since the table's newest input watermark minus `events_lookback_days`:
      base_player__events rewrites no delivery received before that, so an event appears in or
      leaves the staged events only through such a delivery. A metric's value and pre_value read
      the learner's events that occurred within the window and the pre-window, as the windows
      define them (docs/experimentation.md);
    - every window, when the metric's code or the windows' definition changed, when a reference
      input it reads (the catalogue, a seed) changed, when as_of moved back before the watermark,
      or when the metric reads a model that gives no such change feed (enrolments, submissions:
      such a metric is recomputed in full by every build, as before).
    It ends with experiment_metric_rows('final'), which adds the bookkeeping the next run compares
    with, and the strategy replace_windows writes the rows and drops those of windows that are gone
    (a learner deleted or contaminated, as_of moved back).
#}


{#- experiment_metric_inputs(): what the calling metric model reads besides its windows, from its
    parents in dbt's graph: events (it reads stg_player__events), references (the ref()s of the
    seeds and reference models it reads, whose rows it digests) and others (the names of any other
    parent: no change feed, so every build recomputes every window) -#}
{% macro experiment_metric_inputs() -%}
    {%- set inputs = {'events': false, 'references': [], 'others': []} -%}
    {%- if execute -%}
        {%- set own = ['int_experiment_metric_windows', 'base_player__events'] -%}
        {%- for parent_id in graph.nodes[model.unique_id].depends_on.nodes | sort -%}
            {%- set parent = graph.nodes.get(parent_id) -%}
            {%- if parent is none -%}
                {%- do inputs.others.append(parent_id) -%}
            {%- elif parent.name in own -%}
            {%- elif parent.name == 'stg_player__events' -%}
                {%- do inputs.update({'events': true}) -%}
            {%- elif parent.resource_type == 'seed' or parent.name in var('experiment_metric_reference_models') -%}
                {%- do inputs.references.append(ref(parent.name)) -%}
            {%- else -%}
                {%- do inputs.others.append(parent.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(inputs) }}
{%- endmacro %}


{#- experiment_metric_code_digest(): md5 of dbt's checksum of the calling metric model and of the
    windows model, and of the settings they are computed with (empty at parse time) -#}
{% macro experiment_metric_code_digest() -%}
    {%- set nodes = [] -%}
    {%- if execute -%}
        {%- do nodes.append(graph.nodes[model.unique_id]) -%}
        {%- do nodes.append(graph.nodes['model.' ~ project_name ~ '.int_experiment_metric_windows']) -%}
    {%- endif -%}
    {%- set settings = {
        'experiment_window_days': var('experiment_window_days', 14),
        'events_lookback_days': var('events_lookback_days'),
    } -%}
    {{ return(code_digest(nodes, settings) if execute else '') }}
{%- endmacro %}


{#- experiment_metric_reference_digest(inputs): one text of the row fingerprints of the reference
    inputs (every column), '' when there is none -#}
{% macro experiment_metric_reference_digest(inputs) -%}
    {%- set parts = [] -%}
    {%- for relation in inputs.references -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- do parts.append(row_fingerprint(relation, columns)) -%}
    {%- endfor -%}
    {%- if parts -%}
        {%- set fields = [] -%}
        {%- for part in parts -%}
            {%- if not loop.first %}{% do fields.append("';'") %}{% endif -%}
            {%- do fields.append(part) -%}
        {%- endfor -%}
        {{ dbt.concat(fields) }}
    {%- else -%}
        cast('' as {{ dbt.type_string() if dbt is defined else 'text' }})
    {%- endif -%}
{%- endmacro %}


{#- experiment_metric_watermark(): the newest plausible receipt staged, as base_player__events' own
    watermark takes it -#}
{% macro experiment_metric_watermark() -%}
    (
        select max(deliveries.received_at)
        from {{ ref('base_player__events') }} as deliveries
        where deliveries.received_at <= {{ latest_plausible_at() }}
    )
{%- endmacro %}


{#
    experiment_metric_windows(): the windows the calling metric model computes in this build, as
    a relation to select from: int_experiment_metric_windows itself on a full build, on an
    incremental one the windows whose value may have changed (the header above).
#}
{% macro experiment_metric_windows() -%}
    {%- set windows = ref('int_experiment_metric_windows') -%}
    {%- set events = ref('base_player__events') -%}
    {#- a stored table without the bookkeeping (written by a version of the model that did not end
        with experiment_metric_rows) is recomputed whole, and then gets it (on_schema_change) -#}
    {%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list if execute and is_incremental() else [] -%}
    {%- if is_incremental() and (not execute or 'metric_window_start_at' in stored_columns) -%}
        {#- a macro that returns is called only when dbt executes (not under the linter's templater) -#}
        {%- set inputs = experiment_metric_inputs() if execute else {'events': true, 'references': [], 'others': []} -%}
    (
        -- every column of the windows, as a full build reads them
        select windows.*
        from {{ windows }} as windows
        left join {{ this }} as stored
            on
                windows.experiment_key = stored.experiment_key
                and windows.learner_id = stored.learner_id
                and windows.window_start_at = stored.metric_window_start_at
        {%- if inputs.events %}
        left join (
            -- windows with a delivery of any status received since the watermark minus the
            -- lookback that occurred within them (or without a time)
            select distinct
                delivered.experiment_key,
                delivered.learner_id
            from {{ events }} as deliveries
            inner join {{ windows }} as delivered on deliveries.learner_id = delivered.learner_id
            where
                deliveries.received_at >= (
                    select {{ learner_state_days_before('max(state_rows.metric_inputs_through)', var('events_lookback_days')) }}
                    from {{ this }} as state_rows
                )
                and (
                    deliveries.occurred_at is null
                    or (
                        deliveries.occurred_at >= delivered.pre_window_start_at
                        and deliveries.occurred_at < delivered.window_end_at
                    )
                )
        ) as changed
            on
                windows.experiment_key = changed.experiment_key
                and windows.learner_id = changed.learner_id
        {%- endif %}
        where
            stored.experiment_key is null
            {%- if inputs.events %}
            or changed.learner_id is not null
            {%- endif %}
            or {{ experiment_metric_recomputes_all(inputs) }}
    ) as metric_windows
    {%- else -%}
    {{ windows }}
    {%- endif -%}
{%- endmacro %}


{#- experiment_metric_recomputes_all(inputs): true when an incremental run of the calling metric
    must recompute every window (one value for the run) -#}
{% macro experiment_metric_recomputes_all(inputs) -%}
    {%- if inputs.others -%}
        true
    {%- else -%}
        coalesce((
            select
                first_row.metric_code_digest != '{{ experiment_metric_code_digest() if execute else '' }}'
                or first_row.metric_reference_digest != {{ experiment_metric_reference_digest(inputs) }}
                or (select max(state_rows.metric_inputs_through) from {{ this }} as state_rows) > {{ latest_plausible_at() }}
            from (
                select
                    state_rows.metric_code_digest,
                    state_rows.metric_reference_digest
                from {{ this }} as state_rows
                limit 1
            ) as first_row
        ), true)
    {%- endif -%}
{%- endmacro %}


{#
    experiment_metric_rows(final): the last select of a metric model: the rows of the CTE `final`
    (one per window computed) with the bookkeeping an incremental run compares with: the window's
    start, the input watermark (experiment_metric_watermark), the code digest and the reference
    inputs' digest.
#}
{% macro experiment_metric_rows(final='final') -%}
    {#- a macro that returns is called only when dbt executes (not under the linter's templater) -#}
    {%- set inputs = experiment_metric_inputs() if execute else {'events': true, 'references': [], 'others': []} -%}
select
    {{ final }}.*,
    metric_windows.window_start_at as metric_window_start_at,
    {{ experiment_metric_watermark() }} as metric_inputs_through,
    cast('{{ experiment_metric_code_digest() if execute else '' }}' as {{ dbt.type_string() if dbt is defined else 'text' }}) as metric_code_digest,
    {{ experiment_metric_reference_digest(inputs) }} as metric_reference_digest
from {{ final }}
inner join {{ ref('int_experiment_metric_windows') }} as metric_windows
    on
        {{ final }}.experiment_key = metric_windows.experiment_key
        and {{ final }}.learner_id = metric_windows.learner_id
{%- endmacro %}


{#
    Incremental strategy `replace_windows` (experiment metrics): delete the stored rows of the
    windows the new rows name and of the windows int_experiment_metric_windows no longer holds,
    then insert the new rows. A metric without a change feed computes every window in every build:
    its table is emptied instead (no dead rows left behind).
#}
{% macro get_incremental_replace_windows_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if experiment_metric_inputs().others %}
    truncate table {{ target }};
    {%- else %}
    delete from {{ target }} as stored
    where
        (stored.experiment_key, stored.learner_id) in (
            select computed.experiment_key, computed.learner_id
            from {{ source }} as computed
        )
        or not exists (
            select 1
            from {{ ref('int_experiment_metric_windows') }} as windows
            where windows.experiment_key = stored.experiment_key and windows.learner_id = stored.learner_id
        );
    {%- endif %}

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{%- endmacro %}
