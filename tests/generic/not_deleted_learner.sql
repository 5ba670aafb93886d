{#
    No row belongs to a learner who invoked deletion (raw.learners.is_deleted), nor to an id that
    is no learner at all. Put it on the learner_id column of every mart.
#}
{% test not_deleted_learner(model, column_name) %}

with

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

offending as (
    select
        tested.{{ column_name }} as learner_id,
        case when learners.learner_id is null then 'unknown learner' else 'deleted learner' end as problem
    from {{ model }} as tested
    left join learners on tested.{{ column_name }} = learners.learner_id
    where tested.{{ column_name }} is not null
      and (learners.learner_id is null or learners.is_deleted)
)

select * from offending

{% endtest %}
