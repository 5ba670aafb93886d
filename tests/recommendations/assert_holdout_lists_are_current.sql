{{ config(group="recommendations") }}
{%- set code_digest = recommendation_holdout_code_digest() %}
-- The hold-out lists recommendation_performance evaluates are those of this build's hold-out
-- inputs: stored with the digest int_reco_run_refresh computed, for the current cutoff, and with
-- the recommendations code as it is now (or none at all: no learner had lists before the cutoff).
-- Fails with one row when not: the hold-out was due and its lists were not stored (a build that
-- stopped between the two), or a selection that left int_reco_run_refresh out after a producer
-- or a setting changed (`dbt build -s int_reco_producer_x+` keeps the hold-out lists of the old
-- code). `dbt build -s int_reco_run_refresh+` (or `lp rebuild int_reco_run_refresh`) computes them.
with

refresh as (
    select * from {{ ref('int_reco_run_refresh') }}
    where run_key = 'holdout'
),

runs as (
    select * from {{ ref('int_reco_runs') }}
    where run_key = 'holdout'
),

stored as (
    select
        max(holdout_digest) as holdout_digest,
        max(code_digest) as code_digest,
        count(distinct holdout_digest) as n_digests,
        max(generated_at) as generated_at,
        min(generated_at) as first_generated_at
    from {{ ref('int_reco_holdout_lists') }}
),

final as (
    select
        refresh.inputs_digest,
        stored.holdout_digest as stored_digest,
        stored.code_digest as stored_code_digest,
        stored.n_digests,
        stored.generated_at,
        runs.cutoff_at
    from refresh
    cross join stored
    cross join runs
    -- none stored passes: no learner had lists before the cutoff (an empty warehouse)
    where
        stored.n_digests > 0
        and (
            stored.holdout_digest != refresh.inputs_digest
            or stored.code_digest != '{{ code_digest }}'
            or stored.n_digests > 1
            or stored.generated_at != runs.cutoff_at
            or stored.first_generated_at != runs.cutoff_at
        )
)

select * from final
