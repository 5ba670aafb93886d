{#
    Every value of the column is a metric_key of the experiment metric registry
    (macro experiment_metrics, macros/experimentation/experiment_metric_list.sql). The unregistered
    keys are kept in dbt_test__audit: dbt's failure message gives the query that lists them.
#}
{% test experiment_metric_registered(model, column_name) %}
{{ config(store_failures=true) }}

select {{ column_name }} as unregistered_metric_key
from {{ model }}
where {{ column_name }} not in (
    {%- for metric in experiment_metrics() %}
    '{{ metric.metric_key }}'{{ "," if not loop.last }}
    {%- endfor %}
)

{% endtest %}
