{#
    The combination of columns is unique (the composite primary key test).
    Usage: data_tests: [{unique_combination_of_columns: {arguments: {combination_of_columns: [a, b]}}}]
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

duplicated as (
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as n_rows
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
)

select * from duplicated

{% endtest %}
