{#
    Benjamini-Hochberg adjusted p-values (statsmodels multipletests(method='fdr_bh')), in two
    window steps because window functions do not nest:
      1. {{ bh_rank_columns('p_value', ['experiment_key', 'variant_key']) }} adds p_rank (1 = smallest
         p-value; nulls last) and n_tests (non-null p-values in the family);
      2. {{ bh_adjusted_p('p_value', ['experiment_key', 'variant_key']) }} is
         min(1, min over ranks j >= i of p_j * n_tests / j); null for a null p-value.
#}

{% macro bh_rank_columns(p_value, partition_by) -%}
    row_number() over (partition by {{ partition_by | join(', ') }} order by {{ p_value }} asc nulls last) as p_rank,
    count({{ p_value }}) over (partition by {{ partition_by | join(', ') }}) as n_tests
{%- endmacro %}

{% macro bh_adjusted_p(p_value, partition_by) -%}
    {#- least() ignores nulls: the case keeps a null p-value's adjusted value null -#}
    case when {{ p_value }} is not null then least(1.0, min({{ p_value }} * n_tests / p_rank) over (
        partition by {{ partition_by | join(', ') }}
        order by p_rank desc
        rows between unbounded preceding and current row
    )) end
{%- endmacro %}
