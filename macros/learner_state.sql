{#
    Learner state tables: per-key aggregates of the staged events (per learner, learner × course,
    learner × item), kept between builds so that a daily run reads the window of recent receipts,
    not the history (the docs block `learner_state` describes the pattern and why it is exact;
    models/intermediate/core/_core__state.md).

    Every row stores each aggregate twice: over all the key's valid events (the column products
    read) and over its *settled* ones (prefix settled_), those received before the table's settled
    boundary B = the latest receipt the table aggregates minus events_lookback_days.
    base_player__events never rewrites a delivery received before B (its own window starts no
    earlier), so a run adds to the settled aggregates the events received between the boundary the
    stored rows reflect (B_old, from their latest receipt) and the new one (B_new, from the newest
    valid receipt staged), and takes each total as the settled part combined with the window's
    events:
        settled' = settled ⊕ agg(events received in [B_old, B_new))
        total'   = settled' ⊕ agg(events received from B_new on)
    min, max and count combine with least, greatest and +; sum with + as well, which is exact for
    numeric sums (the decayed sums of int_reco_course_views). A run reads the events received since
    B_old (a few days) and rewrites the keys with a delivery there; a key whose stored rows saw no
    such delivery keeps its rows, which equal what a full refresh gives them.
#}


{#
    learner_state_rows(keys, aggregates, marker, joins, qualifies, parameters): the CTEs of a learner
    state table, ending with `state_rows`: the keys, the aggregates, the settled aggregates
    (settled_<name>), and settled_lookback_days (the events_lookback_days the boundary was taken
    with, the same on every row); on an incremental run, also key-only rows (`marker`, the count
    aggregate named by the model's config key_only_when_null, null) for recomputed keys left
    without a valid event.
    - keys: {column: expression}, in column order; aggregates: [{name, agg (min, max, count or
      sum), of (an expression; none for count(*)), where (optional)}]. Both read the delivery (`delivery`:
      learner_id, event_type, course_id, item_id, occurred_at, received_at of
      base_player__events) and the tables `joins` adds;
    - joins: joins after the delivery (e.g. the item -> course mapping); qualifies: the condition a
      valid event meets to count, besides every key being known;
    - parameters: {column: scalar expression} of what the keys or aggregates were computed with
      besides the events (the item -> course mapping's digest, a cutoff an aggregate filters on):
      the model stores each on every row, and a run that finds another value than the stored rows'
      recomputes every key.
    The events are base_player__events' valid rows (stg_player__events), read from the table
    itself: one read of the window serves the events and the deliveries of any status. A run
    recomputes every key, as a full refresh does, when the state is empty, events_lookback_days
    changed (it places the boundary), a parameter changed, as_of moved back before a stored
    receipt (staging may then rewrite settled events), or the boundary went back (the table's
    newest event became a duplicate of an earlier copy): the settled parts cannot lose events.
#}
{% macro learner_state_rows(keys, aggregates, marker, joins='', qualifies='true', parameters={}) -%}
{%- set lookback_days = var('events_lookback_days') -%}
{%- set known = [] -%}
{%- for name, expression in keys.items() -%}
    {%- do known.append(expression ~ ' is not null') -%}
{%- endfor -%}
{%- set valid = 'delivery.quarantine_reason is null and ' ~ known | join(' and ') ~ ' and ' ~ qualifies -%}
{%- set columns = 'learner_id, event_type, course_id, item_id, occurred_at, received_at, quarantine_reason' -%}
{%- set events = ref('base_player__events') -%}
{%- set newest_valid = '(select max(delivery.received_at) from ' ~ events ~ ' as delivery ' ~ joins ~ ' where ' ~ valid ~ ')' -%}
{% if is_incremental() -%}
stored_boundary as (
    -- B_old, from the stored rows; an empty state, another events_lookback_days than the stored
    -- rows', a changed parameter or as_of moved back before a stored receipt recompute every key,
    -- reading every receipt
    select
        decided.settled_before,
        decided.is_recomputing_all,
        case when decided.is_recomputing_all then cast('-infinity' as timestamptz) else decided.settled_before end
            as read_from
    from (
        select
            {{ learner_state_days_before('stored.latest_receipt', lookback_days) }} as settled_before,
            coalesce(
                stored.latest_receipt > {{ latest_plausible_at() }}
                or first_row.settled_lookback_days != {{ lookback_days }}
                {%- for name, expression in parameters.items() %}
                or {{ expression }} != first_row.{{ name }}
                {%- endfor %},
                true
            ) as is_recomputing_all
        from (
            select max(state_rows.last_received_at) as latest_receipt
            from {{ this }} as state_rows
        ) as stored
        -- the bookkeeping every row holds alike, read from the first row by the key index
        left join (
            select
                state_rows.settled_lookback_days
                {%- for name in parameters %},
                state_rows.{{ name }}
                {%- endfor %}
            from {{ this }} as state_rows
            order by state_rows.learner_id
            limit 1
        ) as first_row on 1 = 1
    ) as decided
),

window_deliveries as (
    -- every delivery of any status received since B_old (every one when recomputing every key)
    select {{ columns }}
    from {{ events }}
    where received_at >= (select stored_boundary.read_from from stored_boundary)
),

boundary as (
    -- B_new: the newest valid receipt the window holds, minus the lookback; when there is none or
    -- it is before B_old, the boundary went back (every key is recomputed), and B_new comes from
    -- the newest valid receipt of all
    select
        decided.is_full,
        case
            when decided.is_full and not decided.is_recomputing_all
                then coalesce({{ learner_state_days_before(newest_valid, lookback_days) }}, cast('-infinity' as timestamptz))
            else coalesce(decided.window_settled_before, cast('-infinity' as timestamptz))
        end as settled_before
    from (
        select
            newest.window_settled_before,
            stored_boundary.is_recomputing_all,
            not coalesce(
                not stored_boundary.is_recomputing_all
                and newest.window_settled_before >= stored_boundary.settled_before,
                false
            ) as is_full
        from (
            select {{ learner_state_days_before('max(delivery.received_at)', lookback_days) }} as window_settled_before
            from window_deliveries as delivery
            {{ joins }}
            where {{ valid }}
        ) as newest
        cross join stored_boundary
    ) as decided
),

read_deliveries as (
    -- the window, and the earlier deliveries when the boundary went back
    select {{ columns }} from window_deliveries
    union all
    select {{ columns }}
    from {{ events }}
    where
        received_at < (select stored_boundary.read_from from stored_boundary)
        and (select boundary.is_full from boundary)
),
{%- else %}
boundary as (
    -- B: the newest valid receipt minus the lookback (one aggregate, read once)
    select
        coalesce(
            {{ learner_state_days_before('max(delivery.received_at)', lookback_days) }},
            cast('-infinity' as timestamptz)
        ) as settled_before
    from {{ events }} as delivery
    {{ joins }}
    where {{ valid }}
),

read_deliveries as (
    select {{ columns }} from {{ events }}
),
{%- endif %}

read_events as (
    -- each aggregate over the valid events read, and over those of them received before B_new
    select
        {% for name, expression in keys.items() -%}
        {{ expression }} as {{ name }},
        {% endfor -%}
        {% for aggregate in aggregates -%}
        {{ learner_state_aggregate(aggregate) }} as {{ aggregate.name }},
        {{ learner_state_aggregate(aggregate, 'delivery.received_at < boundary.settled_before') }}
            as settled_{{ aggregate.name }}{{ ',' if not loop.last }}
        {% endfor -%}
    from read_deliveries as delivery
    {{ joins }}
    cross join boundary
    where {{ valid }}
    group by {{ keys.values() | join(', ') }}
),

{% if is_incremental() -%}
recomputed_keys as (
    -- keys with a delivery of any status in the window; every stored key when recomputing every key
    select
        {% for name, expression in keys.items() -%}
        {{ expression }} as {{ name }}{{ ',' if not loop.last }}
        {% endfor -%}
    from window_deliveries as delivery
    {{ joins }}
    where {{ known | join(' and ') }}
    union
    select {{ keys.keys() | join(', ') }}
    from {{ this }}
    where (select boundary.is_full from boundary)
),

stored as (
    -- the settled aggregates the recomputed keys' stored rows hold (none when recomputing every key)
    select
        {% for name in keys -%}
        state_rows.{{ name }},
        {% endfor -%}
        {% for aggregate in aggregates -%}
        state_rows.settled_{{ aggregate.name }}{{ ',' if not loop.last }}
        {% endfor -%}
    from {{ this }} as state_rows
    inner join recomputed_keys
        on {{ learner_state_keys_equal(keys, 'state_rows', 'recomputed_keys') }}
    where not (select boundary.is_full from boundary)
),

state_rows as (
    select
        {% for name in keys -%}
        recomputed_keys.{{ name }},
        {% endfor -%}
        {% for aggregate in aggregates -%}
        {%- set combined = learner_state_combine(aggregate, 'stored.settled_' ~ aggregate.name, 'read_events.' ~ aggregate.name) -%}
        {% if aggregate.name == marker -%}
        nullif({{ combined }}, 0) as {{ aggregate.name }},
        {%- else -%}
        {{ combined }} as {{ aggregate.name }},
        {%- endif %}
        {% endfor -%}
        {% for aggregate in aggregates -%}
        {{ learner_state_combine(aggregate, 'stored.settled_' ~ aggregate.name, 'read_events.settled_' ~ aggregate.name) }}
            as settled_{{ aggregate.name }},
        {% endfor -%}
        {{ lookback_days }} as settled_lookback_days
    from recomputed_keys
    left join read_events
        on {{ learner_state_keys_equal(keys, 'recomputed_keys', 'read_events') }}
    left join stored
        on {{ learner_state_keys_equal(keys, 'recomputed_keys', 'stored') }}
)
{%- else -%}
state_rows as (
    select
        {% for name in keys -%}
        read_events.{{ name }},
        {% endfor -%}
        {% for aggregate in aggregates -%}
        read_events.{{ aggregate.name }},
        {% endfor -%}
        {% for aggregate in aggregates -%}
        read_events.settled_{{ aggregate.name }},
        {% endfor -%}
        {{ lookback_days }} as settled_lookback_days
    from read_events
)
{%- endif %}
{%- endmacro %}


{#- learner_state_keys_equal(keys, left, right): the join condition of two relations on every key -#}
{% macro learner_state_keys_equal(keys, left, right) -%}
    {%- for name in keys -%}
        {{ left }}.{{ name }} = {{ right }}.{{ name }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- learner_state_aggregate(aggregate, also): the aggregate over the events meeting its own
    condition and `also` -#}
{% macro learner_state_aggregate(aggregate, also=none) -%}
    {%- set conditions = [] -%}
    {%- if aggregate.get('where') %}{% do conditions.append(aggregate.where) %}{% endif -%}
    {%- if also %}{% do conditions.append(also) %}{% endif -%}
    {{ aggregate.agg }}({{ aggregate.get('of') or '*' }})
    {%- if conditions %} filter (where {{ conditions | join(' and ') }}){% endif %}
{%- endmacro %}


{#- learner_state_combine(aggregate, settled, other): one aggregate of two disjoint sets of events
    from its value over each (null: no event) -#}
{% macro learner_state_combine(aggregate, settled, other) -%}
    {%- if aggregate.agg == 'min' -%}
        least({{ settled }}, {{ other }})
    {%- elif aggregate.agg == 'max' -%}
        greatest({{ settled }}, {{ other }})
    {%- elif aggregate.agg == 'count' -%}
        coalesce({{ settled }}, 0) + coalesce({{ other }}, 0)
    {%- elif aggregate.agg == 'sum' -%}
        coalesce({{ settled }} + {{ other }}, {{ settled }}, {{ other }})
    {%- else -%}
        {{ exceptions.raise_compiler_error('learner_state_combine: no combination for ' ~ aggregate.agg) }}
    {%- endif -%}
{%- endmacro %}


{#- learner_state_days_before(timestamp, days): `days` days before a timestamp expression (dbt's
    cross-database dateadd; plain SQL for the linter's Jinja templater, which has no dbt namespace) -#}
{% macro learner_state_days_before(timestamp, days) -%}
    {%- if dbt is defined -%}
        {{ dbt.dateadd('day', -1 * days, timestamp) }}
    {%- else -%}
        {{ timestamp }} - interval '{{ days }} days'
    {%- endif -%}
{%- endmacro %}


{#
    course_items_digest(items): an md5 of the item -> course mapping (item_id, course_id,
    is_graded) of the relation or CTE `items`, one value. A state table built through the mapping
    stores it on every row; an incremental run that finds another one recomputes every learner.
#}
{% macro course_items_digest(items='items') -%}
    {#- dbt's cross-database macros; the SQL linter's Jinja templater has no dbt namespace: plain SQL there -#}
    {%- set columns = [items ~ '.item_id', items ~ '.course_id', items ~ '.is_graded'] -%}
    {%- if dbt is defined -%}
        {%- set casts = [] -%}
        {%- for column in columns -%}
            {%- do casts.append(dbt.cast(column, dbt.type_string())) -%}
        {%- endfor -%}
        {%- set row = dbt.concat([casts[0], "':'", casts[1], "':'", casts[2]]) -%}
        {{ dbt.hash(dbt.listagg(row, "','", 'order by ' ~ columns[0])) }}
    {%- else -%}
        md5(string_agg(cast({{ columns[0] }} as text) || ':' || cast({{ columns[1] }} as text) || ':' || cast({{ columns[2] }} as text), ',' order by {{ columns[0] }}))
    {%- endif -%}
{%- endmacro %}


{#
    Incremental strategy `replace_keys`: delete every stored row of the keys (`unique_key`) the new
    rows name, then insert the new rows except the key-only ones (null in the config's
    `key_only_when_null` column). A learner whose events no longer give a row (every valid event of
    theirs became a duplicate) is named by a key-only row, so their stored rows go; delete+insert
    would keep them.
#}
{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set unique_key = [unique_key] if unique_key is string else unique_key -%}
    {%- set marker = config.require('key_only_when_null') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where ({{ unique_key | join(', ') }}) in (
        select {{ unique_key | join(', ') }}
        from {{ source }}
    );

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where {{ marker }} is not null
{%- endmacro %}


