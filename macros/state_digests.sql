{#
    Digests a state table stores beside its rows, so that a later build can tell whether what the
    rows were computed from changed: the code (code_digest) and the input rows (row_fingerprint).
    Used by the recommendations' hold-out (int_reco_run_refresh) and the experiment metrics
    (macros/experimentation/experiment_metric_state.sql).
#}

{#
    md5 (hex) of dbt's checksum of each given node's file and of the given settings, as
    `name=checksum;...;setting=value`, in the order given; '' at parse time (and under sqlfluff's
    templater, which has no local_md5). A macro's text is not in dbt's graph, so a macro edit
    does not change it.
#}
{% macro code_digest(nodes, settings) -%}
    {%- set parts = [] -%}
    {%- for node in nodes -%}
        {%- do parts.append(node.name ~ '=' ~ node.checksum.checksum) -%}
    {%- endfor -%}
    {%- for name, value in settings.items() -%}
        {%- do parts.append(name ~ '=' ~ value) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join(';')) if execute else '') }}
{%- endmacro %}

{#
    An order-independent fingerprint of a relation's rows (`columns` of `relation`, filtered by
    `where`): the row count and the sum of a 64-bit hash of each row's columns as text (null as
    \N). Two equal fingerprints mean, short of a hash collision, the same rows. PostgreSQL's
    hashtextextended; another engine would use its own 64-bit hash (Spark: xxhash64).
#}
{% macro row_fingerprint(relation, columns, where=none) -%}
    (
        select
            count(*) || ':' || coalesce(sum(hashtextextended(concat_ws('|'
                {%- for column in columns %}, coalesce(cast({{ column }} as text), '\N'){% endfor %}), 0)), 0)
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    )
{%- endmacro %}
