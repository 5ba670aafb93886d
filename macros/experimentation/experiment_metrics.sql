{#-
    The experiment metrics, given as the list of ref()s of their models (the registry, kept in
    int_experiment_metrics_unioned), unioned in one shape: experiment_key, metric_key, metric_type,
    learner_id, value, pre_value, numerator, denominator, pre_numerator, pre_denominator. A metric's
    key is its model name without `metric_`; its type is the model's own config,
    `{{ config(meta={'metric_type': 'mean'}) }}` (docs/experimentation.md):
      mean        the model returns experiment_key, learner_id, value, pre_value (0 when no activity)
      proportion  the same, with value and pre_value in {0, 1}
      ratio       the model returns experiment_key, learner_id, numerator, denominator,
                  pre_numerator, pre_denominator (delta method)
    Mean and proportion metrics get numerator = value and denominator = 1, so one set of ratio
    (delta-method) formulas serves every metric type exactly. Every row of every metric is kept
    (a ratio's value is null where its denominator is 0): the marts drop those learners, and the
    test that every metric covers every window reads them.
-#}
{% macro union_experiment_metrics(metrics) -%}
    {%- for metric in registry_members(metrics, 'metric_', 'experiment metric') %}
    {%- set metric_type = metric.meta.get('metric_type', 'mean' if not execute else none) %}
    {%- set what = "experiment metric " ~ metric.key ~ " (metric_type " ~ metric_type ~ "; docs/experimentation.md)" %}
    {%- if metric_type not in ('mean', 'proportion', 'ratio') %}
        {{- exceptions.raise_compiler_error("experiment metric " ~ metric.key ~ ": model " ~ metric.model ~ " must set its metric_type (mean, proportion or ratio) in its config, config(meta={'metric_type': 'mean'}) at the top of its SQL; got " ~ (metric_type if metric_type is not none else 'none') ~ " (docs/experimentation.md)") }}
    {%- endif %}
    {%- set columns = ['experiment_key', 'learner_id'] + (['numerator', 'denominator', 'pre_numerator', 'pre_denominator'] if metric_type == 'ratio' else ['value', 'pre_value']) %}
    {{- require_columns(metric.model, columns, what) }}
    {{- require_columns(metric.model, ['metric_window_start_at', 'metric_inputs_through', 'metric_code_digest', 'metric_reference_digest'], what ~ ": its last select must be the macro experiment_metric_rows('final'), which adds what an incremental run compares with (docs/experimentation.md)") }}
    {%- if not loop.first %}
    union all
    {%- endif %}
    {%- if metric_type == 'ratio' %}
    select
        experiment_key,
        '{{ metric.key }}' as metric_key,
        '{{ metric_type }}' as metric_type,
        learner_id,
        cast(numerator as double precision) / nullif(cast(denominator as double precision), 0) as value,
        cast(pre_numerator as double precision) / nullif(cast(pre_denominator as double precision), 0) as pre_value,
        cast(numerator as double precision) as numerator,
        cast(denominator as double precision) as denominator,
        cast(pre_numerator as double precision) as pre_numerator,
        cast(pre_denominator as double precision) as pre_denominator
    from {{ metric.relation }}
    {%- else %}
    select
        experiment_key,
        '{{ metric.key }}' as metric_key,
        '{{ metric_type }}' as metric_type,
        learner_id,
        cast(value as double precision) as value,
        cast(pre_value as double precision) as pre_value,
        cast(value as double precision) as numerator,
        cast(1.0 as double precision) as denominator,
        cast(pre_value as double precision) as pre_numerator,
        cast(1.0 as double precision) as pre_denominator
    from {{ metric.relation }}
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
