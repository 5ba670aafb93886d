-- One row per experiment × metric of the analysis plans: which registered metrics an experiment
-- reads, and in which role. The plans are the seeds (or models) named by the var
-- experiment_analysis_plans, default the demo's seed experiment_analysis_plans; a team registers
-- its own experiments in its own seed and names it there (docs/experimentation.md). A plan for an
-- experiment the warehouse does not have gives no rows downstream and a warning, not a failure.
{%- set plans = var('experiment_analysis_plans', ['experiment_analysis_plans']) %}
{%- set plans = [plans] if plans is string else plans %}

with

{% for plan in plans %}
plans_{{ loop.index }} as (
    select * from {{ ref(plan) }}
),

{% endfor -%}
unioned as (
    {%- for plan in plans %}
    select
        cast(experiment_key as text) as experiment_key,
        cast(metric_key as text) as metric_key,
        cast(metric_role as text) as metric_role,
        cast('{{ plan }}' as text) as plan_name
    from plans_{{ loop.index }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from unioned
