-- One row per candidate of every registered producer (macro recommendation_producers): run,
-- learner, module, course, raw score (higher is better, positive), algorithm, anchor course.
-- Adding a SQL producer: one model in producers/ and one line in the macro's list.
-- A view, not a table: it only unions the producers' tables, which int_reco_lists reads once;
-- materialising it would copy every candidate (millions of rows at scale) a second time.
{{ config(materialized='view') }}

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
