{#
    Every value of the column is a metric_key of the experiment metric registry
    (macro experiment_metrics, macros/experimentation/experiment_metric_list.sql).
#}
{% test experiment_metric_registered(model, column_name) %}

select {{ column_name }} as unregistered_metric_key
from {{ model }}
where {{ column_name }} not in (
    {%- for metric in experiment_metrics() %}
    '{{ metric.metric_key }}'{{ "," if not loop.last }}
    {%- endfor %}
)

{% endtest %}
