{#
    The read-only role consumers use. It may USAGE the consumer schemas and SELECT the published
    marts (granted by publish_mart) and nothing else: staging, intermediate, audit and raw are
    never granted. Run on-run-start; idempotent.
#}
{% macro ensure_reader_role() %}
    {%- set reader = var('reader_role') -%}
    {%- set sql -%}
        do $$
        begin
            if not exists (select from pg_catalog.pg_roles where rolname = '{{ reader }}') then
                create role {{ reader }} nologin;
            end if;
        end
        $$;
        revoke create on schema public from {{ reader }};
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}
