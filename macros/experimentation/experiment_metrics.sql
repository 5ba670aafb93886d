{#
    The experiment metric registry: ONE LINE PER METRIC. Adding a metric is writing its model
    models/intermediate/experimentation/metrics/metric_<metric_key>.sql and adding its line here;
    every experiment whose analysis plan (seed experiment_analysis_plans) names the metric picks it
    up on the next build. See docs/experimentation.md.

    metric_type:
      mean        the model returns experiment_key, learner_id, value, pre_value (0 when no activity)
      proportion  the same, with value and pre_value in {0, 1}
      ratio       the model returns experiment_key, learner_id, numerator, denominator,
                  pre_numerator, pre_denominator (delta method; learners with denominator 0 are
                  not in the metric's n)
    Each line: metric_key, metric_type, model. (A macro, not a seed: refs must be known when dbt
    parses the project, before any seed is loaded; plain lines, not a returned list, so that the
    SQL linter's Jinja templater renders it like dbt does.)
#}
{% macro experiment_metric_registry() -%}
items_completed, mean, metric_items_completed
active_learner, proportion, metric_active_learner
enrollments, mean, metric_enrollments
quiz_pass_rate, ratio, metric_quiz_pass_rate
{%- endmacro %}

{#-
    One union of every registered metric model, in a common shape: experiment_key, metric_key,
    metric_type, learner_id, value, pre_value, numerator, denominator, pre_numerator, pre_denominator.
    Mean and proportion metrics get numerator = value and denominator = 1, so one set of
    ratio (delta-method) formulas serves every metric type exactly.
-#}
{% macro union_experiment_metrics() -%}
    {%- for metric in experiment_metrics() %}
    {%- set columns = ['experiment_key', 'learner_id'] + (['numerator', 'denominator', 'pre_numerator', 'pre_denominator'] if metric.metric_type == 'ratio' else ['value', 'pre_value']) %}
    {{- require_columns(metric.model, columns, "experiment metric " ~ metric.metric_key ~ " (registered as " ~ metric.metric_type ~ " in macros/experimentation/experiment_metrics.sql; docs/experimentation.md)") }}
    {%- if not loop.first %}
    union all
    {%- endif %}
    {%- if metric.metric_type == 'ratio' %}
    select
        experiment_key,
        '{{ metric.metric_key }}' as metric_key,
        '{{ metric.metric_type }}' as metric_type,
        learner_id,
        cast(numerator as double precision) / cast(denominator as double precision) as value,
        cast(pre_numerator as double precision) / nullif(cast(pre_denominator as double precision), 0) as pre_value,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator,
        cast(pre_numerator as double precision) as pre_numerator,
        cast(pre_denominator as double precision) as pre_denominator
    from {{ ref(metric.model) }}
    where denominator > 0
    {%- else %}
    select
        experiment_key,
        '{{ metric.metric_key }}' as metric_key,
        '{{ metric.metric_type }}' as metric_type,
        learner_id,
        cast(value as double precision) as value,
        cast(pre_value as double precision) as pre_value,
        cast(value as double precision) as numerator,
        cast(1.0 as double precision) as denominator,
        cast(pre_value as double precision) as pre_numerator,
        cast(1.0 as double precision) as pre_denominator
    from {{ ref(metric.model) }}
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
