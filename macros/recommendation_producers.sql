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

{# Days the offline evaluation's test window holds at least (the cutoff is weekly). #}
{% macro recommendation_holdout_days() -%}
    {{ return(var('reco_holdout_days', 14)) }}
{%- endmacro %}

{#
    Half-life in days of a learner's interaction weight with a course (int_reco_interactions), and
    of the decayed sums int_reco_course_views keeps of it: one value for both, which the state
    stores on every row, so changing it recomputes the state instead of mixing two half-lives.
#}
{% macro recommendation_interaction_half_life_days() -%}
    {{ return(var('reco_interaction_half_life_days', 30)) }}
{%- endmacro %}

{#
    The hold-out run's cutoff: the start of the ISO week (Monday 00:00 UTC) holding as_of minus the
    hold-out days. It moves once a week, so the hold-out's training data and the state kept of it
    (int_reco_course_views) change only with late deliveries between two Mondays.
#}
{% macro recommendation_holdout_cutoff() -%}
    (date_trunc('week', ({{ as_of() }} - interval '{{ recommendation_holdout_days() }} days') at time zone 'UTC') at time zone 'UTC')
{%- endmacro %}

{#
    The body of a producer's CTE that keeps each learner's pool_size best rows of `candidates`
    (a CTE with run_key, learner_id, course_id, raw_score) among the courses recommendable in the
    run: int_reco_candidate_pools says how many can reach the list (k + the learner's excluded
    courses), and the rows are ranked exactly like the lists (rounded raw_score desc, course_id
    asc), which is what makes the pooled lists equal those of every candidate. `pools` and
    `catalogue` are the producer's import CTEs of int_reco_candidate_pools and int_reco_catalogue;
    `partition_by` is the list a ranking runs within (add `module` when the producer emits several
    modules). Dropping the unrecommendable courses before ranking (the lists drop them anyway)
    keeps the pool at k + n_excluded instead of also counting every retired course. learner_id
    leads the partition: the window's sort then compares integers before the two-valued run_key.

        pooled as (
            {{ candidate_pool('scored') }}
        ),
#}
{% macro candidate_pool(candidates, pools='pools', catalogue='catalogue', partition_by=['learner_id', 'run_key']) -%}
    select ranked.*
    from (
        select
            {{ candidates }}.*,
            row_number() over (
                partition by {{ candidates }}.{{ partition_by | join(', ' ~ candidates ~ '.') }}
                order by {{ round_score(candidates ~ '.raw_score') }} desc, {{ candidates }}.course_id asc
            ) as pool_rank
        from {{ candidates }}
        inner join {{ catalogue }}
            on
                {{ candidates }}.run_key = {{ catalogue }}.run_key
                and {{ candidates }}.course_id = {{ catalogue }}.course_id
        where {{ catalogue }}.is_recommendable
    ) as ranked
    inner join {{ pools }}
        on
            ranked.run_key = {{ pools }}.run_key
            and ranked.learner_id = {{ pools }}.learner_id
    where ranked.pool_rank <= {{ pools }}.pool_size
{%- endmacro %}

{#
    What the hold-out run's lists are computed with besides their input rows, as an md5 digest
    (hex): the code of every intermediate recommendations model (dbt's checksum of each file, the
    store of the lists int_reco_holdout_lists included: a new column there recomputes them) and
    the settings the lists read (k, the neighbourhood, the popular pool). int_reco_run_refresh
    folds it into the hold-out's digest, so a change to a producer or a setting recomputes the
    hold-out lists at the next build. A macro's text is not in dbt's graph: after changing one the
    producers use, `lp rebuild int_reco_run_refresh` recomputes them (the next cutoff would).
#}
{% macro recommendation_holdout_code_digest() -%}
    {%- set nodes = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id')
            if node.resource_type == 'model' and node.group == 'recommendations' and node.fqn[1] == 'intermediate' -%}
            {%- do nodes.append(node) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set settings = {} -%}
    {%- for name in ['reco_k', 'reco_neighbours', 'reco_min_support', 'reco_popular_pool'] -%}
        {%- do settings.update({name: var(name, '')}) -%}
    {%- endfor -%}
    {#- not at parse time (nor under sqlfluff's templater, which has no local_md5) -#}
    {{ return(code_digest(nodes, settings) if execute else '') }}
{%- endmacro %}

{#
    The hold-out lists as an earlier build stored them (int_reco_holdout_lists' relation), or none
    when it does not exist yet. int_reco_run_refresh reads their digest: that model is built from
    it, so it cannot be a ref there.
#}
{% macro recommendation_holdout_store() -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.int_reco_holdout_lists') if execute else none -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) if node else none) }}
{%- endmacro %}
