{#
    Incremental aggregates of events, per learner.

    A model aggregating stg_player__events per learner (one or several rows per learner) is
    incremental with `unique_key='learner_id'` and `incremental_strategy='delete+insert'`: a run
    recomputes, from all their events, only the learners with a delivery received since the
    model's watermark minus `events_lookback_days` (the window base_player__events re-reads, so
    every event whose validity that run could change is covered), and replaces their rows. The
    model keeps `last_received_at` (max received_at of the learner's events) for its watermark.

        {{ config(materialized='incremental', unique_key='learner_id',
                  incremental_strategy='delete+insert', on_schema_change='fail',
                  indexes=[{'columns': ['learner_id']}]) }}
        ...
        where {{ events_learner_filter() }}      -- in the model's events CTE; true on a full build

    A learner's rows are replaced whole, so an aggregate at a finer grain (learner × course) uses
    the same key. Its result equals a full refresh (pytests/test_incremental.py checks every
    incremental model).
#}

{% macro events_learner_filter(learner_column='learner_id') -%}
    {#- ref outside the branch, so that parsing (not incremental) records the dependency -#}
    {%- set base_events = ref('base_player__events') -%}
    {%- if is_incremental() -%}
        {{ learner_column }} in (
            select changed.learner_id
            from {{ base_events }} as changed
            where
                changed.learner_id is not null
                and changed.received_at >= (
                    select
                        coalesce(
                            max(watermark.last_received_at) - interval '{{ var("events_lookback_days") }} days',
                            cast('-infinity' as timestamptz)
                        )
                    from {{ this }} as watermark
                )
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
