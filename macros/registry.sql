{#-
    Registries of models data scientists add (experiment metrics, coaching segments,
    recommendation producers) follow one pattern: the union model lists its members itself, one
    ref() a line, and hands that list to its union macro. Whatever differs per member (a metric's
    type) lives in the member model's own config (meta), next to its SQL.

    registry_members(relations, prefix, what): the listed members as a list of
    {key, model, relation, meta}: key is the model name without the registry's prefix (metric_,
    int_coaching_segment_), meta the member's config meta. When dbt executes the union (the graph
    is known), a member whose name lacks the prefix or that is listed twice stops the build with
    a message naming it. Before that (dbt parse, sqlfluff) ref() does not name the member yet:
    meta is empty and nothing is checked; the union's SQL is not run then.
-#}
{% macro registry_members(relations, prefix, what) -%}
    {%- set members = [] %}
    {%- for relation in relations %}
        {%- set name = relation.identifier | string %}
        {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ name) if execute else none %}
        {%- if execute %}
            {%- if not name.startswith(prefix) or node is none %}
                {{- exceptions.raise_compiler_error(what ~ " registry of " ~ model.name ~ ": " ~ name ~ " is not a " ~ prefix ~ "<key> model of this project") }}
            {%- endif %}
            {%- if name in members | map(attribute='model') | list %}
                {{- exceptions.raise_compiler_error(what ~ " registry of " ~ model.name ~ ": " ~ name ~ " is listed twice") }}
            {%- endif %}
        {%- endif %}
        {%- do members.append({
            'key': name[(prefix | length):],
            'model': name,
            'relation': relation,
            'meta': node.config.meta if node is not none else {},
        }) %}
    {%- endfor %}
    {{- return(members) }}
{%- endmacro %}

{#-
    The members a union model lists, read from the graph (for tests and macros that need the keys
    and settings of a registry, not its rows): [{key, model, meta}] of the union's upstream models
    whose name starts with prefix. Empty before dbt executes (no graph).
-#}
{% macro registry_member_list(union_model, prefix) -%}
    {%- set members = [] %}
    {%- if execute %}
        {%- for unique_id in graph.nodes['model.' ~ project_name ~ '.' ~ union_model].depends_on.nodes %}
            {%- set node = graph.nodes.get(unique_id) %}
            {%- if node is not none and node.resource_type == 'model' and node.name.startswith(prefix) %}
                {%- do members.append({'key': node.name[(prefix | length):], 'model': node.name, 'meta': node.config.meta}) %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
    {{- return(members) }}
{%- endmacro %}
