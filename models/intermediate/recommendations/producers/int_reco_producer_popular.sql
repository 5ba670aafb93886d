-- Producer of module `popular` (cold start): every learner, with or without history, gets the
-- domain-balanced popularity list. A course's score is its time-decayed enrolment popularity
-- (int_reco_catalogue, half-life 14 days) damped by half for each more popular course of the same
-- domain (popularity × 0.5^(rank in domain - 1)), so the top of the list spans the most popular
-- domains instead of repeating one. The pool is the best `reco_popular_pool` (default 50) courses;
-- each learner gets the first pool_size of them (int_reco_candidate_pools): exactly those that can
-- reach the list.

with

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
),

pools as (
    select * from {{ ref('int_reco_candidate_pools') }}
),

domain_ranked as (
    select
        run_key,
        course_id,
        popularity,
        row_number() over (
            partition by run_key, domain order by popularity desc, course_id asc
        ) as domain_rank
    from catalogue
    where is_recommendable and popularity > 0
),

pool as (
    select
        run_key,
        course_id,
        popularity * power(0.5, domain_rank - 1) as raw_score,
        row_number() over (
            -- ordered like the lists (macros/round_score.sql)
            partition by run_key
            order by {{ round_score('popularity * power(0.5, domain_rank - 1)') }} desc, course_id asc
        ) as pool_rank
    from domain_ranked
),

final as (
    select
        pools.run_key,
        pools.learner_id,
        'popular' as module,
        pool.course_id,
        pool.raw_score,
        'domain_decayed_popularity' as algorithm,
        cast(null as bigint) as reason_course_id
    from pools
    inner join pool on pools.run_key = pool.run_key
    where pool.pool_rank <= least({{ var('reco_popular_pool', 50) }}, pools.pool_size)
)

select * from final
