{#
    One row per learner × course the learner viewed: the course views the item-item model reads, as
    a learner state table (docs block `learner_state`, macros/learner_state.sql), for both runs of
    int_reco_runs at once: every view (live), and the views stamped and received before the
    hold-out run's cutoff (holdout_ columns). Each decayed sum is kept exactly as a numeric sum of
    decay_term terms (macros/time_decay.sql; half-life recommendation_interaction_half_life_days,
    30 days), which int_reco_interactions decays to each run's cutoff when it reads them: the sum
    does not depend on as_of, so it changes only with new views.
    An incremental run reads the deliveries received since the state's settled boundary and replaces
    the rows of the learner × course keys with one there. The hold-out's cutoff moves once a week
    (macros/recommendation_producers.sql): each row stores the cutoff, the decay epoch and the
    half-life it was built with (holdout_until_at, decay_epoch, decay_half_life_days), and a run
    that finds one changed recomputes every key, as a full refresh does. Exact: pytests/test_incremental.py compares every run with a full
    refresh.
#}
-- the staged events (stg_player__events' rows) are read from their base table, in one read with the
-- window's other deliveries; this dependency keeps the staged view in every selection built on it
-- depends_on: {{ ref('stg_player__events') }}
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'course_id'],
        incremental_strategy='replace_keys',
        key_only_when_null='n_views',
        on_schema_change='fail',
        indexes=[{'columns': ['last_received_at']}],
        post_hook=["{{ unique_index(['learner_id', 'course_id']) }}"],
    )
}}

{#- the hold-out run sees what had been received by its cutoff: a view stamped before it but
    received later (a late delivery, a wrong clock) leaves its inputs alone, so they stay put
    between two cutoffs (int_reco_run_refresh) -#}
{%- set before_cutoff =
    'delivery.occurred_at < holdout.history_until_at and delivery.received_at < holdout.history_until_at' -%}
{%- set view_term = decay_term('delivery.occurred_at', recommendation_interaction_half_life_days()) -%}
{%- set aggregates = [
    {'name': 'n_views', 'agg': 'count'},
    {'name': 'last_viewed_at', 'agg': 'max', 'of': 'delivery.occurred_at'},
    {'name': 'view_decay_sum', 'agg': 'sum', 'of': view_term},
    {'name': 'holdout_n_views', 'agg': 'count', 'where': before_cutoff},
    {'name': 'holdout_last_viewed_at', 'agg': 'max', 'of': 'delivery.occurred_at', 'where': before_cutoff},
    {'name': 'holdout_view_decay_sum', 'agg': 'sum', 'of': view_term, 'where': before_cutoff},
    {'name': 'last_received_at', 'agg': 'max', 'of': 'delivery.received_at'},
] %}

with

holdout as (
    select history_until_at from {{ ref('int_reco_runs') }}
    where run_key = 'holdout'
),

-- boundary, reading, the events read (read_events) and on incremental runs the recomputed keys:
-- state_rows, each learner × course's aggregates and settled aggregates
{{ learner_state_rows(
    keys={'learner_id': 'delivery.learner_id', 'course_id': 'delivery.course_id'},
    aggregates=aggregates,
    marker='n_views',
    joins='cross join holdout',
    qualifies="delivery.event_type = 'course_view'",
    parameters={
        'holdout_until_at': '(select holdout.history_until_at from holdout)',
        'decay_epoch': decay_epoch(),
        'decay_half_life_days': recommendation_interaction_half_life_days(),
    },
) }},

final as (
    select
        state_rows.learner_id,
        state_rows.course_id,
        state_rows.n_views,
        state_rows.last_viewed_at,
        state_rows.view_decay_sum,
        state_rows.holdout_n_views,
        state_rows.holdout_last_viewed_at,
        state_rows.holdout_view_decay_sum,
        state_rows.last_received_at,
        holdout.history_until_at as holdout_until_at,
        {{ decay_epoch() }} as decay_epoch,
        {{ recommendation_interaction_half_life_days() }} as decay_half_life_days,
        state_rows.settled_n_views,
        state_rows.settled_last_viewed_at,
        state_rows.settled_view_decay_sum,
        state_rows.settled_holdout_n_views,
        state_rows.settled_holdout_last_viewed_at,
        state_rows.settled_holdout_view_decay_sum,
        state_rows.settled_last_received_at,
        state_rows.settled_lookback_days
    from state_rows
    cross join holdout
)

select * from final
