-- percentile_peers is set exactly when the learner has an occupation and 30+ other learners of the
-- same occupation have evidence on the skill (counted here from the mart and the learners).
with

benchmarks as (
    select * from {{ ref('learner_skill_benchmarks') }}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

with_occupation as (
    select
        benchmarks.learner_id,
        benchmarks.skill_id,
        benchmarks.percentile_peers,
        learners.occupation
    from benchmarks
    inner join learners on benchmarks.learner_id = learners.learner_id
),

group_sizes as (
    select
        skill_id,
        occupation,
        count(*) as n_learners
    from with_occupation
    where occupation is not null
    group by skill_id, occupation
)

select
    with_occupation.*,
    group_sizes.n_learners
from with_occupation
left join group_sizes
    on
        with_occupation.skill_id = group_sizes.skill_id
        and with_occupation.occupation = group_sizes.occupation
where
    (with_occupation.percentile_peers is not null)
    != coalesce(group_sizes.n_learners - 1 >= 30, false)
