{#
    Every rule of ranked lists (one list per combination of list_columns), in one test: each
    failing row names the rule it breaks in `failed_rule`.
    - 'more than <max_length> rows': the list is longer than max_length (one row per list);
    - 'ranks not 1..n': the list's ranks are not exactly 1..n (a gap or a repeat);
    - 'score out of range': a score is null or outside (min_score, max_score];
    - 'score above the previous rank': a score is higher than the score of the rank before it;
    - 'item twice in a list': an item (item_column) appears twice in the list.
    One sort of the model checks the first four and one aggregate the last: at scale each rule as
    a test of its own re-read and re-sorted millions of list rows.
    Usage (model-level):
      data_tests:
        - ranked_list:
            arguments: {list_columns: [learner_id, module], item_column: course_id, max_length: 10}
    See the failing rows: dbt show --inline "<the test's compiled SQL>" or --store-failures.
#}
{% test ranked_list(
    model, list_columns, item_column, max_length,
    rank_column='rank', score_column='score', min_score=0, max_score=1
) %}
{%- set list_key = list_columns | join(', ') %}

with

ordered as (
    select
        {{ list_key }},
        {{ rank_column }} as list_rank,
        {{ item_column }} as list_item,
        {{ score_column }} as list_score,
        -- ranks are exactly 1..n when every row's rank is its position in rank order
        row_number() over by_rank as list_position,
        lag({{ score_column }}) over by_rank as previous_score,
        count(*) over (partition by {{ list_key }}) as n_rows
    from {{ model }}
    window by_rank as (partition by {{ list_key }} order by {{ rank_column }}, {{ item_column }})
),

rule_violations as (
    select
        {{ list_key }},
        list_rank,
        list_item,
        list_score,
        case
            when n_rows > {{ max_length }} and list_position = 1 then 'more than {{ max_length }} rows'
            when list_rank is distinct from list_position then 'ranks not 1..n'
            when
                list_score is null or list_score <= {{ min_score }} or list_score > {{ max_score }}
                then 'score out of range'
            when list_score > previous_score then 'score above the previous rank'
        end as failed_rule
    from ordered
),

repeated_items as (
    select
        {{ list_key }},
        cast(null as bigint) as list_rank,
        {{ item_column }} as list_item,
        cast(null as double precision) as list_score,
        'item twice in a list' as failed_rule
    from {{ model }}
    group by {{ list_key }}, {{ item_column }}
    having count(*) > 1
),

failures as (
    select * from rule_violations
    where failed_rule is not null
    union all
    select * from repeated_items
)

select * from failures

{% endtest %}
