-- One row per module × algorithm: offline quality on the temporal hold-out (the `holdout` run's
-- lists, built from data before the weekly cutoff and kept in int_reco_holdout_lists, against the
-- enrolments made after it) and online click-through from raw impressions.
-- It reads the hold-out lists twice (the per-learner hits, the courses for coverage) and the live
-- lists once (the learners served), each through its own CTE: a CTE read once is inlined instead
-- of copied into a CTE buffer.
with

holdout_lists as (
    select * from {{ ref('int_reco_holdout_lists') }}
),

holdout_list_courses as (
    select * from {{ ref('int_reco_holdout_lists') }}
),

live_lists as (
    select * from {{ ref('int_reco_lists') }}
    where run_key = 'live'
),

targets as (
    select * from {{ ref('int_reco_holdout_enrollments') }}
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
),

online as (
    select * from {{ ref('int_reco_module_impressions') }}
),

runs as (
    select * from {{ ref('int_reco_runs') }}
),

positions as (
    select
        position,
        cast(1.0 / log(2.0, position + 1.0) as double precision) as discount
    from generate_series(1, {{ recommendation_k() }}) as position
),

relevant_counts as (
    select
        learner_id,
        count(*) as n_relevant
    from targets
    group by learner_id
),

ideal_gains as (
    select
        relevant_counts.learner_id,
        relevant_counts.n_relevant,
        sum(positions.discount) as idcg
    from relevant_counts
    inner join positions on relevant_counts.n_relevant >= positions.position
    group by relevant_counts.learner_id, relevant_counts.n_relevant
),

learner_hits as (
    select
        holdout_lists.module,
        holdout_lists.algorithm,
        holdout_lists.learner_id,
        count(targets.course_id) as n_hits,
        coalesce(sum(positions.discount) filter (where targets.course_id is not null), 0) as dcg
    from holdout_lists
    inner join positions on holdout_lists.rank = positions.position
    left join targets
        on
            holdout_lists.learner_id = targets.learner_id
            and holdout_lists.course_id = targets.course_id
    group by holdout_lists.module, holdout_lists.algorithm, holdout_lists.learner_id
),

offline as (
    select
        learner_hits.module,
        learner_hits.algorithm,
        count(*) as n_learners,
        -- averaged in learner order: a floating-point sum is then the same in every build
        avg(
            cast(learner_hits.n_hits as double precision) / {{ recommendation_k() }} order by learner_hits.learner_id
        ) as precision_at_k,
        avg(
            cast(learner_hits.n_hits as double precision) / ideal_gains.n_relevant order by learner_hits.learner_id
        ) as recall_at_k,
        avg(learner_hits.dcg / ideal_gains.idcg order by learner_hits.learner_id) as ndcg_at_k
    from learner_hits
    inner join ideal_gains on learner_hits.learner_id = ideal_gains.learner_id
    group by learner_hits.module, learner_hits.algorithm
),

holdout_catalogue_size as (
    select count(*) as n_courses
    from catalogue
    where run_key = 'holdout' and is_recommendable
),

list_members as (
    -- per list row, the learner it serves live or the course it holds in the hold-out run
    select
        module,
        algorithm,
        learner_id as served_learner_id,
        cast(null as bigint) as holdout_course_id
    from live_lists
    union all
    select
        module,
        algorithm,
        cast(null as bigint) as served_learner_id,
        course_id as holdout_course_id
    from holdout_list_courses
),

distinct_members as (
    -- a hash aggregate to a few hundred thousand groups, where count(distinct) sorted every list
    -- row
    select distinct
        module,
        algorithm,
        served_learner_id,
        holdout_course_id
    from list_members
),

listed_modules as (
    -- every module × algorithm with a list in either run: the learners served live, and the
    -- courses of the hold-out lists (none: null, no coverage)
    select
        module,
        algorithm,
        count(served_learner_id) as n_learners_served,
        nullif(count(holdout_course_id), 0) as n_holdout_courses
    from distinct_members
    group by module, algorithm
),

coverage as (
    select
        listed_modules.module,
        listed_modules.algorithm,
        cast(listed_modules.n_holdout_courses as double precision) / holdout_catalogue_size.n_courses as coverage
    from listed_modules
    cross join holdout_catalogue_size
),

module_algorithms as (
    select
        module,
        algorithm
    from listed_modules
    union all
    -- modules with impressions but no list (retired modules): the algorithm is unknown
    select
        online.module,
        'unknown' as algorithm
    from online
    left join listed_modules on online.module = listed_modules.module
    where listed_modules.module is null
),

holdout_run as (
    select cutoff_at from runs
    where run_key = 'holdout'
),

final as (
    select
        module_algorithms.module,
        module_algorithms.algorithm,
        cast(coalesce(offline.n_learners, 0) as integer) as n_learners,
        coverage.coverage,
        offline.precision_at_k,
        offline.recall_at_k,
        offline.ndcg_at_k,
        cast(coalesce(online.impressions, 0) as bigint) as impressions,
        cast(online.clicks as double precision) / nullif(online.impressions, 0) as ctr,
        cast(coalesce(online.clicks, 0) as bigint) as clicks,
        cast(coalesce(listed_modules.n_learners_served, 0) as integer) as n_learners_served,
        cast({{ recommendation_k() }} as integer) as k,
        holdout_run.cutoff_at as holdout_cutoff_at
    from module_algorithms
    cross join holdout_run
    left join offline
        on
            module_algorithms.module = offline.module
            and module_algorithms.algorithm = offline.algorithm
    left join coverage
        on
            module_algorithms.module = coverage.module
            and module_algorithms.algorithm = coverage.algorithm
    left join listed_modules
        on
            module_algorithms.module = listed_modules.module
            and module_algorithms.algorithm = listed_modules.algorithm
    left join online on module_algorithms.module = online.module
)

select * from final
