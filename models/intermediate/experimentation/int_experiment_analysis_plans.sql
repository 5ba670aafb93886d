-- One row per experiment × metric of the analysis plans: which registered metrics an experiment
-- reads, and in which role. The plans are the seeds (or models) named by the var
-- experiment_analysis_plans, default the demo's seed experiment_analysis_plans; a team registers
-- its own experiments in its own seed and names it there (docs/experimentation.md). A plan for an
-- experiment the warehouse does not have gives no rows downstream and a warning, not a failure.
-- Optional plan columns (a plan without them gets the defaults): alpha and power (of the power
-- analysis; vars experiment_alpha and experiment_power, default 0.05 and 0.8), target_lift (the
-- relative lift the experiment is planned to detect; none by default), cap_type (percentile or
-- absolute) and cap_value (the metric's outlier cap; none by default).
{%- set plans = var('experiment_analysis_plans', ['experiment_analysis_plans']) %}
{%- set plans = [plans] if plans is string else plans %}
{%- set optional = {
    'alpha': ('double precision', experiment_alpha()),
    'power': ('double precision', var('experiment_power', 0.8)),
    'target_lift': ('double precision', none),
    'cap_type': ('text', none),
    'cap_value': ('double precision', none),
} %}

with

{% for plan in plans %}
plans_{{ loop.index }} as (
    select * from {{ ref(plan) }}
),

{% endfor -%}
unioned as (
    {%- for plan in plans %}
    {%- set present = optional_columns(ref(plan), optional.keys() | list) %}
    select
        cast(experiment_key as text) as experiment_key,
        cast(metric_key as text) as metric_key,
        cast(metric_role as text) as metric_role,
        cast('{{ plan }}' as text) as plan_name
        {%- for column, (data_type, default) in optional.items() %}
        {%- set fallback = 'null' if default is none else default %}
        {%- set given = 'coalesce(cast(' ~ column ~ ' as ' ~ data_type ~ '), ' ~ fallback ~ ')' %}
        {%- set expression = given if column in present else fallback %},
        cast({{ expression }} as {{ data_type }}) as {{ column }}
        {%- endfor %}
    from plans_{{ loop.index }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from unioned
