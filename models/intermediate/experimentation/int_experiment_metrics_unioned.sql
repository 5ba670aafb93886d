-- The experiment metric registry: one ref() per metric model, the rows of every metric in one
-- shape (experiment_key, metric_key, metric_type, learner_id, value, pre_value, numerator,
-- denominator, pre_numerator, pre_denominator). Adding a metric is its model
-- metrics/metric_<metric_key>.sql, whose config says its metric_type, plus its line below; the
-- experiments whose analysis plan names it read it from the next build on (docs/experimentation.md).
{{ config(materialized='view') }}

{%- set metrics = [
    ref('metric_items_completed'),
    ref('metric_active_learner'),
    ref('metric_enrollments'),
    ref('metric_quiz_pass_rate'),
    ref('metric_minutes_studied'),
] %}

with

metric_values as (
    {{ union_experiment_metrics(metrics) }}
)

select * from metric_values
