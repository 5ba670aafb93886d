-- One row per candidate of every registered producer (macro recommendation_producers): run,
-- learner, module, course, raw score (higher is better, positive), algorithm, anchor course.
-- Adding a SQL producer: one model in producers/ and one line in the macro's list.
-- A table, analyzed once built (dbt_project.yml), so that int_reco_lists is planned on its
-- statistics: a union view has none of its own, and the planner, estimating a few rows where
-- there are hundreds of thousands, chose a nested-loop anti join against the exclusions.
-- Its unique index enforces one row per run × learner × module × course where it is written
-- (each producer is unique on its key, and two producers must not share a module), so the lists
-- need no deduplication (macros/unique_index.sql).
{{
    config(
        materialized='table',
        post_hook=["{{ unique_index(['learner_id', 'run_key', 'module', 'course_id']) }}"],
    )
}}

{%- set producer_columns = [
    'run_key', 'learner_id', 'module', 'course_id', 'raw_score', 'algorithm', 'reason_course_id'
] %}
with

{% for producer in recommendation_producers() %}
{{- require_columns(producer, producer_columns, 'recommendation producer ' ~ producer ~ ' (docs/recommendations.md)') }}
{{ producer }} as (
    select
        run_key,
        learner_id,
        module,
        course_id,
        cast(raw_score as double precision) as raw_score,
        algorithm,
        cast(reason_course_id as bigint) as reason_course_id
    from {{ ref(producer) }}
),
{% endfor %}

unioned as (
    {%- for producer in recommendation_producers() %}
    select * from {{ producer }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from unioned
