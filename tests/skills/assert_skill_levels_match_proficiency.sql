-- level follows the documented proficiency thresholds: beginner < 0.4 <= intermediate < 0.6 <=
-- advanced < 0.8 <= expert. Written out here (not through the model's macro) to check it.
with

benchmarks as (
    select * from {{ ref('learner_skill_benchmarks') }}
)

select * from benchmarks
where
    level != case
        when proficiency >= 0.8 then 'expert'
        when proficiency >= 0.6 then 'advanced'
        when proficiency >= 0.4 then 'intermediate'
        else 'beginner'
    end
