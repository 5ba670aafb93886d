-- Every registered metric model (the list in int_experiment_metrics_unioned) has one row per clean
-- experiment × learner of int_experiment_metric_windows, and no other: a learner without activity
-- gets 0 (or denominator 0), not a missing row, which would leave them out of n and bias the effect
-- without any error (an inner join where the recipe says left join). A proportion metric's value
-- and pre_value are 0 or 1. One failing row per metric and broken rule, with how many learner rows
-- break it, kept in dbt_test__audit (dbt's failure message gives the query that shows them). In the
-- experimentation group: the models it reads are private to it.
{{ config(group='experimentation', store_failures=true) }}

with

windows as (
    select * from {{ ref('int_experiment_metric_windows') }}
),

metric_values as (
    select * from {{ ref('int_experiment_metrics_unioned') }}
),

registered as (
    -- every registered metric, rows or not (a metric model with no row at all is still checked)
    {%- for metric in registry_member_list('int_experiment_metrics_unioned', 'metric_') %}
    select
        '{{ metric.key }}' as metric_key,
        '{{ metric.model }}' as model_name,
        '{{ metric.meta.metric_type }}' as metric_type
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        '' as metric_key,
        '' as model_name,
        '' as metric_type
    {%- endfor %}
),

expected as (
    select
        registered.metric_key,
        registered.model_name,
        registered.metric_type,
        windows.experiment_key,
        windows.learner_id
    from registered
    cross join windows
),

joined as (
    select
        coalesce(expected.metric_key, metric_values.metric_key) as metric_key,
        metric_values.learner_id is null as is_window_without_a_row,
        expected.learner_id is null as is_row_without_a_window,
        expected.metric_type = 'proportion'
        and (
            coalesce(metric_values.value, -1) not in (0, 1)
            or coalesce(metric_values.pre_value, -1) not in (0, 1)
        ) as is_proportion_not_0_or_1
    from expected
    full outer join metric_values
        on
            expected.metric_key = metric_values.metric_key
            and expected.experiment_key = metric_values.experiment_key
            and expected.learner_id = metric_values.learner_id
),

checked as (
    select
        metric_key,
        count(*) filter (where is_window_without_a_row) as n_windows_without_a_row,
        count(*) filter (where is_row_without_a_window) as n_rows_without_a_window,
        count(*) filter (where is_proportion_not_0_or_1) as n_proportions_not_0_or_1
    from joined
    group by metric_key
),

named as (
    select
        checked.*,
        registered.model_name
    from checked
    inner join registered on checked.metric_key = registered.metric_key
),

failures as (
    select
        metric_key,
        model_name,
        'windows without a row (learners missing from n: left join the windows, 0 when no activity)' as broken_rule,
        n_windows_without_a_row as n_learner_rows
    from named
    where n_windows_without_a_row > 0
    union all
    select
        metric_key,
        model_name,
        'rows without a window (not a clean experiment × learner whose window has ended)' as broken_rule,
        n_rows_without_a_window as n_learner_rows
    from named
    where n_rows_without_a_window > 0
    union all
    select
        metric_key,
        model_name,
        'registered as proportion, but value or pre_value is not 0 or 1 (null included)' as broken_rule,
        n_proportions_not_0_or_1 as n_learner_rows
    from named
    where n_proportions_not_0_or_1 > 0
)

select * from failures
