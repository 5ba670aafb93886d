-- One row per learner × skill with enough evidence (3+ graded items): proficiency, percentiles
-- against all learners and against occupation peers, and level.
with

evidenced as (
    select * from {{ ref('int_learner_skills_evidenced') }}
),

ranked as (
    select
        *,
        100 * percent_rank() over (partition by skill_id order by proficiency) as percentile_all,
        count(*) over (partition by skill_id, occupation) - 1 as n_peers,
        100 * percent_rank() over (
            partition by skill_id, occupation order by proficiency
        ) as percentile_in_occupation
    from evidenced
),

final as (
    select
        learner_id,
        skill_id,
        skill_name,
        proficiency,
        n_evidence_items,
        percentile_all,
        case
            when occupation is not null and n_peers >= {{ var('skill_min_peers', 30) }}
                then percentile_in_occupation
        end as percentile_peers,
        {{ skill_level('proficiency') }} as level,
        case when occupation is not null then cast(n_peers as integer) end as n_peers
    from ranked
)

select * from final
