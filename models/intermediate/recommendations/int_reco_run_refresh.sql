{#
    One row per run of int_reco_runs: whether this build computes its lists (is_due). The live run
    is computed in every build. The hold-out run's lists are a function of its inputs: its cutoff
    (weekly), the hold-out rows of the cheap per-run models (learners, interactions, exclusions,
    catalogue), the external model batches scored before the cutoff, and the recommendations code
    and settings (macro recommendation_holdout_code_digest). Their digest is stored with the hold-out lists
    (int_reco_holdout_lists), and the hold-out is due only when the stored digest differs from this
    build's: on the day the cutoff moves, after a change to a producer or a setting, after a late
    input before the cutoff, and on every full refresh. Any other day it is not computed again, and
    what it would compute is what is stored: pytests/test_incremental.py compares with a full
    refresh.
    Floating-point inputs are rounded into the digest: a sum that came out different in its last
    bits would at most make the hold-out due once more. The hold-out run takes its data as it
    stood at the cutoff: the course views received by then (int_reco_course_views), and the
    learners not deleted by then (int_reco_learners), so neither a late delivery nor a deletion
    makes it due; a deleted learner leaves the evaluation at once (int_reco_holdout_enrollments).
    The stored digest is read from int_reco_holdout_lists as an earlier build left it: that model
    is built from this one, so it cannot be a ref here; a missing table means due.
#}
{%- set store = recommendation_holdout_store() -%}
{%- set code_digest = recommendation_holdout_code_digest() -%}

with

runs as (
    select * from {{ ref('int_reco_runs') }}
),

learners as (
    select * from {{ ref('int_reco_learners') }}
),

interactions as (
    select * from {{ ref('int_reco_interactions') }}
),

exclusions as (
    select * from {{ ref('int_reco_exclusions') }}
),

catalogue as (
    select * from {{ ref('int_reco_catalogue') }}
),

batches as (
    select * from {{ ref('int_reco_model_batches') }}
),

holdout as (
    select
        run_key,
        cutoff_at,
        history_until_at
    from runs
    where run_key = 'holdout'
),

holdout_batches as (
    select
        batches.model_name,
        batches.batch_id,
        batches.n_scores,
        batches.n_learners,
        batches.last_scored_at,
        batches.is_complete
    from batches
    inner join holdout on batches.last_scored_at < holdout.history_until_at
),

digests as (
    select
        holdout.run_key,
        '{{ code_digest }}' as code_digest,
        md5(concat_ws(
            '#',
            '{{ code_digest }}',
            cast(holdout.cutoff_at as text),
            {{ row_fingerprint('learners', ['learner_id', 'has_history'], where="run_key = 'holdout'") }},
            {{ row_fingerprint(
                'interactions',
                [
                    'learner_id', 'course_id', 'n_views', 'n_enrollments', 'last_touched_at', 'last_viewed_at',
                    'round(cast(weight as numeric), 12)',
                ],
                where="run_key = 'holdout'",
            ) }},
            {{ row_fingerprint(
                'exclusions', ['learner_id', 'course_id', 'exclusion_reasons'], where="run_key = 'holdout'"
            ) }},
            {{ row_fingerprint(
                'catalogue',
                ['course_id', 'domain', 'is_recommendable', 'n_enrollments', 'round(cast(popularity as numeric), 9)'],
                where="run_key = 'holdout'",
            ) }},
            {{ row_fingerprint(
                'holdout_batches', ['model_name', 'batch_id', 'n_scores', 'n_learners', 'last_scored_at', 'is_complete']
            ) }}
        )) as inputs_digest
    from holdout
),

stored as (
    {%- if store and not flags.FULL_REFRESH %}
    select max(holdout_digest) as holdout_digest from {{ store }}
    {%- else %}
    -- no hold-out lists stored yet, or a full refresh: computed again
    select cast(null as text) as holdout_digest
    {%- endif %}
),

final as (
    select
        runs.run_key,
        (
            runs.run_key = 'live'
            or stored.holdout_digest is null
            or digests.inputs_digest != stored.holdout_digest
        ) as is_due,
        digests.inputs_digest,
        digests.code_digest,
        stored.holdout_digest as stored_digest
    from runs
    cross join stored
    left join digests on runs.run_key = digests.run_key
)

select * from final
