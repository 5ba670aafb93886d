{#
    Learner state tables: per-learner aggregates of the staged events, kept between builds and
    recomputed only for the learners with new input (the docs block `learner_state` describes the
    pattern; models/intermediate/core/_core__state.md).

    learner_state_window_start(received_at_column): the start of the window an incremental run
    re-reads: the latest receipt the state reflects (its `received_at_column`, the receipt of the
    newest event a stored row aggregates) minus `events_lookback_days`, as base_player__events
    computes its own. Receipts later than as_of allows (received_in_future) are left out of the
    maximum, as there. An empty state gives -infinity: every learner.
#}
{% macro learner_state_window_start(received_at_column='last_received_at') -%}
    {#- dbt's cross-database macros; the SQL linter's Jinja templater has no dbt namespace: plain SQL there -#}
    {%- set latest = 'max(' ~ received_at_column ~ ')' -%}
    {%- set window_start = latest ~ " - interval '" ~ var('events_lookback_days') ~ " days'" -%}
    {%- if dbt is defined -%}
        {%- set window_start = dbt.dateadd('day', -1 * var('events_lookback_days'), latest) -%}
    {%- endif -%}
    (
        select coalesce({{ window_start }}, cast('-infinity' as timestamptz))
        from {{ this }}
        where {{ received_at_column }} <= {{ latest_plausible_at() }}
    )
{%- endmacro %}


{#
    learners_with_new_events(received_at_column, key_of, items): a query of the learners whose
    staged events may differ from what the state reflects: every learner with a delivery of any
    status received in the window. base_player__events only writes rows received in its own
    window, which starts no earlier than this one (its watermark is at least the state's), so a
    staged event that appeared (new, renumbered first, or a received_in_future delivery as_of
    caught up with) or disappeared (a copy renumbered into a duplicate) since the state was
    written has a row here, valid or not. Deliveries without a plausible receipt time are never
    valid, so they change no state.
    With key_of (an expression over the delivery, `delivery`, and `items` when given, the item ->
    course mapping joined by item), the learner × key pairs instead, the key as key_id: a state
    table keyed finer than the learner recomputes only those.
#}
{% macro learners_with_new_events(received_at_column='last_received_at', key_of=none, items=none) -%}
    select distinct
        delivery.learner_id{% if key_of %},
        {{ key_of }} as key_id{% endif %}
    from {{ ref('base_player__events') }} as delivery
    {% if items -%}
    left join {{ items }} on delivery.item_id = {{ items }}.item_id
    {% endif -%}
    where
        delivery.learner_id is not null
        and delivery.received_at >= {{ learner_state_window_start(received_at_column) }}
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


{#
    learner_state_mapped_events(items, key_column): the CTEs of a learner state table keyed by
    learner × `key_column` (item_id or course_id, an item event counting for its item's course)
    and built through the item -> course mapping (the relation or CTE `items`,
    stg_platform__course_items), ending with `events`, the staged events to aggregate, each with
    its `key_id`:
    - mapping: course_items_digest of `items`, stored on every row;
    - incremental runs only: mapping_changed (the stored digest, the same on every row and read as
      the first by the key index, differs or the state is empty), keys_with_new_events (every
      learner × key with a delivery of any status received in the window: learners_with_new_events
      with the key; a staged event that appeared or disappeared has such a delivery, with its own
      learner and key), and recomputed_keys (the keys whose stored rows are replaced:
      those with new events and, after a mapping change, every key stored);
    - events: every staged event on a first run, a full refresh or after a mapping change, else
      the events of the keys with new events: the learners among them first, by a hashed look-up
      (a join with a union whose estimate, every learner, planned a sort and merge join), then
      the keys.
    An appended day touches a few percent of the learner × key rows where it touches most
    learners within the window, so the state is replaced per key rather than per learner.
#}
{% macro learner_state_mapped_events(items='items', key_column='item_id') -%}
{%- set key_of = {
    'item_id': 'delivery.item_id',
    'course_id': 'coalesce(delivery.course_id, ' ~ items ~ '.course_id)',
} -%}
{#- the mapping each delivery's item is joined to, where the key reads it -#}
{%- set key_items = items if key_column == 'course_id' else none -%}
mapping as (
    select {{ course_items_digest(items) }} as course_items_digest
    from {{ items }}
),

{% if is_incremental() %}
mapping_changed as (
    select
        coalesce(
            (select mapping.course_items_digest from mapping)
            != (
                select state_rows.course_items_digest from {{ this }} as state_rows
                order by state_rows.learner_id
                limit 1
            ),
            true
        ) as is_changed
),

keys_with_new_events as (
    {{ learners_with_new_events(key_of=key_of[key_column], items=key_items) }}
),

recomputed_keys as (
    select
        keys_with_new_events.learner_id,
        keys_with_new_events.key_id
    from keys_with_new_events
    where keys_with_new_events.key_id is not null
    union
    select
        state_rows.learner_id,
        state_rows.{{ key_column }} as key_id
    from {{ this }} as state_rows
    where (select mapping_changed.is_changed from mapping_changed)
),
{% endif %}

events_with_key as (
    select
        delivery.*,
        {{ key_of[key_column] }} as key_id
    from {{ ref('stg_player__events') }} as delivery
    {% if key_items -%}
    left join {{ key_items }} on delivery.item_id = {{ key_items }}.item_id
    {% endif -%}
    {% if is_incremental() %}
    where
        (select mapping_changed.is_changed from mapping_changed)
        or delivery.learner_id in (select keys_with_new_events.learner_id from keys_with_new_events)
    {% endif %}
),

events as (
    select events_with_key.*
    from events_with_key
    {% if is_incremental() %}
    where
        (select mapping_changed.is_changed from mapping_changed)
        or (events_with_key.learner_id, events_with_key.key_id) in (
            select recomputed_keys.learner_id, recomputed_keys.key_id from recomputed_keys
        )
    {% endif %}
)
{%- endmacro %}
