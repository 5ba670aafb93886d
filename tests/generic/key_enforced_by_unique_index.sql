{#
    The model's key is enforced by the database: `relation` (default: the model itself; for a stg_
    view, the base table it filters) has a valid unique index on exactly `columns`, partial with
    `predicate` when given (as PostgreSQL prints it, e.g. '(quarantine_reason IS NULL)': the filter
    of the view). A duplicate can then never be written, so the test reads the catalogue instead of
    re-aggregating every row (macros/unique_index.sql). Fails with one row when there is none.
    Usage:
      data_tests:
        - key_enforced_by_unique_index:
            arguments:
              columns: [event_id]
              relation: ref('base_player__events')
              predicate: '(quarantine_reason IS NULL)'
#}
{% test key_enforced_by_unique_index(model, columns=none, relation=none, predicate=none, column_name=none) %}
{#- on a column, the key defaults to that column #}
{%- set columns = columns or [column_name] %}
{%- set target = relation if relation is not none else model %}

with

unique_indexes as (
    select
        pg_get_expr(i.indpred, i.indrelid) as index_predicate,
        (
            select array_agg(a.attname::text order by k.ord)
            from unnest(i.indkey) with ordinality as k (attnum, ord)
            inner join pg_attribute as a on i.indrelid = a.attrelid and k.attnum = a.attnum
        ) as index_columns
    from pg_index as i
    where
        i.indrelid = {{ "'" ~ target ~ "'" }}::regclass
        and i.indisunique
        and i.indisvalid
),

matching as (
    select * from unique_indexes
    where
        index_columns = array[{{ "'" ~ columns | join("', '") ~ "'" }}]
        and index_predicate is not distinct from {{ "'" ~ predicate ~ "'" if predicate else 'null' }}
)

select
    {{ "'" ~ target ~ "'" }} as relation_name,
    {{ "'" ~ columns | join(', ') ~ "'" }} as key_columns,
    'no valid unique index enforces this key' as problem
where not exists (select 1 from matching)

{% endtest %}
