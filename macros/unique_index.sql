{#
    Keys the database enforces. A unique index rejects a duplicate when it is written, so an
    incremental table keeps its key at the cost of its new rows, where a `unique` test re-reads and
    re-aggregates the whole table on every run (a hash of every event id at scale).

    unique_index(columns, where=none): a post-hook that creates a unique index on `columns` of the
    model's table (partial when `where` is given: the key of the valid rows a stg_ view selects),
    unless the table has one already (incremental runs keep it; a full refresh builds a new table).
    Unnamed: PostgreSQL picks a free name, so the table being replaced may keep its own until
    dbt drops it. The test `key_enforced_by_unique_index` (tests/generic) checks that it exists.

        post_hook=["{{ unique_index(['event_id'], where='quarantine_reason is null') }}"]
#}
{% macro unique_index(columns, where=none) -%}
    do $unique_index$ begin
        if not exists (
            select 1
            from pg_index as i
            where
                i.indrelid = {{ "'" ~ this ~ "'" }}::regclass
                and i.indisunique
                and (select array_agg(a.attname::text order by k.ord)
                     from unnest(i.indkey) with ordinality as k (attnum, ord)
                     inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum)
                    = array[{{ "'" ~ columns | join("', '") ~ "'" }}]
                and {% if where %}i.indpred is not null{% else %}i.indpred is null{% endif %}
        ) then
            create unique index on {{ this }} ({{ columns | join(', ') }}){% if where %} where {{ where }}{% endif %};
        end if;
    end $unique_index$
{%- endmacro %}
