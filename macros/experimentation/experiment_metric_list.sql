{#-
    The registry's lines as a list of {metric_key, metric_type, model}, checked: a line that is not
    three fields, an unknown metric_type or a metric_key registered twice stops the parse with
    the line to mend. (Its own file: sqlfluff's Jinja templater honours `return` only for a macro
    defined in another file than its caller, union_experiment_metrics.)
-#}
{% macro experiment_metrics() -%}
    {%- set metrics = [] %}
    {%- for line in experiment_metric_registry().strip().split('\n') | map('trim') | reject('equalto', '') %}
        {%- set fields = line.split(',') | map('trim') | list %}
        {%- if fields | length != 3 or '' in fields %}
            {{- exceptions.raise_compiler_error("experiment_metric_registry line '" ~ line ~ "': expected metric_key, metric_type, model (macros/experimentation/experiment_metrics.sql)") }}
        {%- endif %}
        {%- if fields[1] not in ('mean', 'proportion', 'ratio') %}
            {{- exceptions.raise_compiler_error("experiment metric " ~ fields[0] ~ ": metric_type must be mean, proportion or ratio, got '" ~ fields[1] ~ "'") }}
        {%- endif %}
        {%- if fields[0] in metrics | map(attribute='metric_key') | list %}
            {{- exceptions.raise_compiler_error("experiment metric " ~ fields[0] ~ " is registered twice in experiment_metric_registry") }}
        {%- endif %}
        {%- do metrics.append({'metric_key': fields[0], 'metric_type': fields[1], 'model': fields[2]}) %}
    {%- endfor %}
    {{- return(metrics) }}
{%- endmacro %}
