{#
    Every value of the column is the metric_key of a registered experiment metric: a metric model
    listed in int_experiment_metrics_unioned (macro registry_member_list). The unregistered keys
    are kept in dbt_test__audit: dbt's failure message gives the query that lists them.
#}
{% test experiment_metric_registered(model, column_name) %}
{{ config(store_failures=true) }}

select {{ column_name }} as unregistered_metric_key
from {{ model }}
where {{ column_name }} not in (
    {%- for metric in registry_member_list('int_experiment_metrics_unioned', 'metric_') %}
    '{{ metric.key }}',
    {%- endfor %}
    ''
)

{% endtest %}
