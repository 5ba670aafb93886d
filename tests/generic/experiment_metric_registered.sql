{#
    Every value of the column is a metric_key of the experiment metric registry
    (macro experiment_metric_registry, macros/experimentation/experiment_metrics.sql).
#}
{% test experiment_metric_registered(model, column_name) %}

select {{ column_name }} as unregistered_metric_key
from {{ model }}
where {{ column_name }} not in (
    {%- for line in experiment_metric_registry().strip().split('\n') | map('trim') | reject('equalto', '') | list %}
    '{{ line.split(',')[0] | trim }}'{{ "," if not loop.last }}
    {%- endfor %}
)

{% endtest %}
