{#
    The registry of recommendation producers and the settings every producer shares.

    A producer is one model in models/intermediate/recommendations/producers/ that emits candidate
    rows (run_key, learner_id, module, course_id, raw_score, algorithm, reason_course_id) for every
    run of int_reco_runs (`live` and the `holdout` evaluation run). Adding a SQL producer is adding
    that model plus one line to the list below; int_reco_candidates unions them and int_reco_lists
    applies the shared contract (exclusions, top k, contiguous ranks, scores in 0..1).
    External models need no line here: every model_name in raw.model_scores is a module through
    int_reco_producer_external_models.
#}
{% macro recommendation_producers() -%}
    {{ return([
        'int_reco_producer_recent_activity',
        'int_reco_producer_because_you_viewed',
        'int_reco_producer_popular',
        'int_reco_producer_external_models',
    ]) }}
{%- endmacro %}

{# Length of every recommendation list (the contract's k). #}
{% macro recommendation_k() -%}
    {{ return(var('reco_k', 10)) }}
{%- endmacro %}

{# Days between the hold-out cutoff and as_of: the offline evaluation's test window. #}
{% macro recommendation_holdout_days() -%}
    {{ return(var('reco_holdout_days', 14)) }}
{%- endmacro %}
