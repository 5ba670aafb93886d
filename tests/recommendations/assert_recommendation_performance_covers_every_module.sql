-- recommendation_performance has a row for every module × algorithm of course_recommendations,
-- and its offline metrics are consistent (recall and precision null exactly when no learner was
-- evaluated). Fails on each violating module.
with

recommendations as (
    select * from {{ ref('course_recommendations') }}
),

performance as (
    select * from {{ ref('recommendation_performance') }}
),

served as (
    select distinct
        module,
        algorithm
    from recommendations
)

select
    served.module,
    served.algorithm,
    'module without performance row' as problem
from served
left join performance
    on
        served.module = performance.module
        and served.algorithm = performance.algorithm
where performance.module is null
union all
select
    module,
    algorithm,
    'offline metrics inconsistent with n_learners' as problem
from performance
where (n_learners = 0) != (precision_at_k is null) or (n_learners = 0) != (recall_at_k is null)
