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
    The registry's lines as a list of {metric_key, metric_type, model}, checked: a line that is not
    three fields, an unknown metric_type or a metric_key registered twice stops the parse with
    the line to mend.
-#}
{% macro experiment_metrics() -%}
    {%- set metrics = [] %}
    {%- set keys = [] %}
    {%- for line in experiment_metric_registry().strip().split('\n') | map('trim') | reject('equalto', '') %}
        {%- set fields = line.split(',') | map('trim') | list %}
        {%- if fields | length != 3 or '' in fields %}
            {{- exceptions.raise_compiler_error("experiment_metric_registry line '" ~ line ~ "': expected metric_key, metric_type, model (macros/experimentation/experiment_metrics.sql)") }}
        {%- endif %}
        {%- if fields[1] not in ('mean', 'proportion', 'ratio') %}
            {{- exceptions.raise_compiler_error("experiment metric " ~ fields[0] ~ ": metric_type must be mean, proportion or ratio, got '" ~ fields[1] ~ "'") }}
        {%- endif %}
        {%- if fields[0] in keys %}
            {{- exceptions.raise_compiler_error("experiment metric " ~ fields[0] ~ " is registered twice in experiment_metric_registry") }}
        {%- endif %}
        {%- do keys.append(fields[0]) %}
        {%- do metrics.append({'metric_key': fields[0], 'metric_type': fields[1], 'model': fields[2]}) %}
    {%- endfor %}
    {{- return(metrics) }}
{%- endmacro %}

{#-
    One union of every registered metric model, in a common shape: experiment_key, metric_key,
    metric_type, learner_id, value, pre_value, numerator, denominator, pre_numerator, pre_denominator.
    Mean and proportion metrics get numerator = value and denominator = 1, so one set of
    ratio (delta-method) formulas serves every metric type exactly.
-#}
{% macro union_experiment_metrics() -%}
    {%- for metric in experiment_metrics() %}
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
