{#
    Rules of ranked lists (one list per combination of list_columns), each failing on a violating row:
    - ranked_list_max_length: at most max_length rows per list and no rank above it;
    - ranked_list_contiguous_ranks: ranks are exactly 1..n (no gap, no repeat);
    - ranked_list_scores_non_increasing: every score is in (min_score, max_score] and no score is
      higher than the score of the rank before it.
    Usage (model-level):
      data_tests:
        - ranked_list_max_length: {arguments: {list_columns: [learner_id, module], max_length: 10}}
#}
{% test ranked_list_max_length(model, list_columns, max_length, rank_column='rank') %}

with

lists as (
    select
        {{ list_columns | join(', ') }},
        count(*) as n_rows,
        max({{ rank_column }}) as max_rank
    from {{ model }}
    group by {{ list_columns | join(', ') }}
)

select * from lists
where n_rows > {{ max_length }} or max_rank > {{ max_length }}

{% endtest %}


{% test ranked_list_contiguous_ranks(model, list_columns, rank_column='rank') %}

with

lists as (
    select
        {{ list_columns | join(', ') }},
        count(*) as n_rows,
        count(distinct {{ rank_column }}) as n_ranks,
        min({{ rank_column }}) as min_rank,
        max({{ rank_column }}) as max_rank
    from {{ model }}
    group by {{ list_columns | join(', ') }}
)

select * from lists
where min_rank != 1 or max_rank != n_rows or n_ranks != n_rows

{% endtest %}


{% test ranked_list_scores_non_increasing(
    model, list_columns, rank_column='rank', score_column='score', min_score=0, max_score=1
) %}

with

ordered as (
    select
        {{ list_columns | join(', ') }},
        {{ rank_column }} as list_rank,
        {{ score_column }} as list_score,
        lag({{ score_column }}) over (
            partition by {{ list_columns | join(', ') }} order by {{ rank_column }}
        ) as previous_score
    from {{ model }}
)

select * from ordered
where
    list_score is null
    or list_score <= {{ min_score }}
    or list_score > {{ max_score }}
    or list_score > previous_score

{% endtest %}
