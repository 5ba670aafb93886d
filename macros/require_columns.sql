{#-
    Before a union reads a model a data scientist wrote (a metric, a segment), stop with an error
    that names that model, the columns it lacks and what its kind must return, instead of
    PostgreSQL's "column ... does not exist" blamed on the union. Runs when dbt executes the union
    (the model it reads is built by then); skipped when that relation does not exist yet (dbt
    compile or docs on an empty database) or is ephemeral (no relation, only a CTE), where the
    union's own SQL reports it.
-#}
{% macro require_columns(model_name, required, what) -%}
    {%- if execute %}
        {%- set present = adapter.get_columns_in_relation(ref(model_name)) | map(attribute='name') | map('lower') | list %}
        {%- set missing = required | reject('in', present) | list %}
        {%- if present and missing %}
            {{- exceptions.raise_compiler_error(what ~ ": model " ~ model_name ~ " has no column " ~ missing | join(', ') ~ " (it has " ~ present | join(', ') ~ "); it must return " ~ required | join(', ')) }}
        {%- endif %}
    {%- endif %}
{%- endmacro %}
