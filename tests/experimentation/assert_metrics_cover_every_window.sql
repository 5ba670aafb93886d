-- Every registered metric model has one row per clean experiment × learner of
-- int_experiment_metric_windows, and no other: a learner without activity gets 0 (or denominator
-- 0), not a missing row, which would leave them out of n and bias the effect without any error (an
-- inner join where the recipe says left join). A proportion metric's value and pre_value are 0 or
-- 1. One failing row per metric and broken rule, with how many learner rows break it, kept in
-- dbt_test__audit (dbt's failure message gives the query that shows them). In the experimentation
-- group: the models it reads are private to it.
{{ config(group='experimentation', store_failures=true) }}

with

windows as (
    select * from {{ ref('int_experiment_metric_windows') }}
),

{% for metric in experiment_metrics() %}
{%- set not_0_or_1 = 'coalesce(metric_rows.value, -1) not in (0, 1)'
    ~ ' or coalesce(metric_rows.pre_value, -1) not in (0, 1)' %}
{{ metric.metric_key }}_checked as (
    select
        '{{ metric.metric_key }}' as metric_key,
        '{{ metric.model }}' as model_name,
        count(*) filter (where metric_rows.learner_id is null) as n_windows_without_a_row,
        count(*) filter (where windows.learner_id is null) as n_rows_without_a_window,
        count(*) filter (
            where {{ not_0_or_1 if metric.metric_type == 'proportion' else 'false' }}
        ) as n_proportions_not_0_or_1
    from windows
    full outer join {{ ref(metric.model) }} as metric_rows
        on
            windows.experiment_key = metric_rows.experiment_key
            and windows.learner_id = metric_rows.learner_id
),

{% endfor %}
checked as (
    {%- for metric in experiment_metrics() %}
    select * from {{ metric.metric_key }}_checked
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

failures as (
    select
        metric_key,
        model_name,
        'windows without a row (learners missing from n: left join the windows, 0 when no activity)' as broken_rule,
        n_windows_without_a_row as n_learner_rows
    from checked
    where n_windows_without_a_row > 0
    union all
    select
        metric_key,
        model_name,
        'rows without a window (not a clean experiment × learner whose window has ended)' as broken_rule,
        n_rows_without_a_window as n_learner_rows
    from checked
    where n_rows_without_a_window > 0
    union all
    select
        metric_key,
        model_name,
        'registered as proportion, but value or pre_value is not 0 or 1 (null included)' as broken_rule,
        n_proportions_not_0_or_1 as n_learner_rows
    from checked
    where n_proportions_not_0_or_1 > 0
)

select * from failures
