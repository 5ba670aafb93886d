{#
    The quarantine rules the base models (models/staging/<source>/base) share: the reasons a raw row
    can be kept out of staging for, the plausible time window and integer ranges (vars in
    dbt_project.yml), and what happens to a key delivered more than once. docs/bad_input.md lists
    every column's range and every reason.
#}

{% macro quarantine_reasons() -%}
    {{ return([
        'missing_key', 'missing_value', 'missing_timestamp', 'out_of_range',
        'before_platform_launch', 'in_future', 'received_in_future', 'occurred_in_future',
        'before_signup', 'inconsistent_timestamps', 'outside_experiment_window',
        'invalid_country_code', 'invalid_difficulty', 'invalid_item_type', 'invalid_value',
        'orphan_learner', 'orphan_course', 'orphan_item', 'orphan_message', 'orphan_experiment',
        'unknown_skill', 'unknown_event_type', 'unknown_variant', 'unknown_message_key',
        'not_one_control', 'weights_not_summing_to_one',
        'duplicate_key', 'superseded', 'duplicate_delivery', 'duplicate_log_line',
    ]) }}
{%- endmacro %}


{% macro earliest_plausible_at() -%}
    cast('{{ var("platform_launched_at") }}' as timestamptz)
{%- endmacro %}


{% macro latest_plausible_at() -%}
    ({{ as_of() }} + interval '{{ var("future_tolerance_hours") }} hours')
{%- endmacro %}


{#- CASE branches: a timestamp before the platform's launch, or later than as_of plus the tolerance #}
{% macro implausible_timestamps(columns, future_reason='in_future') -%}
    when
        {% for column in columns -%}
            {{ column }} < {{ earliest_plausible_at() }}{{ ' or ' if not loop.last }}
        {%- endfor %}
        then 'before_platform_launch'
    when
        {% for column in columns -%}
            {{ column }} > {{ latest_plausible_at() }}{{ ' or ' if not loop.last }}
        {%- endfor %}
        then '{{ future_reason }}'
{%- endmacro %}


{#- A CASE branch: a learner's row dated before the learner signed up (beyond the clock-skew tolerance) #}
{% macro before_signup(column, signed_up_at='learners.signed_up_at') -%}
    when {{ column }} < {{ signed_up_at }} - interval '{{ var("future_tolerance_hours") }} hours'
        then 'before_signup'
{%- endmacro %}


{#- A CASE branch: an integer outside var plausible_ranges (keyed by the column's own name) #}
{% macro implausible_integers(columns) -%}
    when
        {% for column in columns -%}
            {%- set bounds = var('plausible_ranges')[column.split('.')[-1]] -%}
            {{ column }} not between {{ bounds[0] }} and {{ bounds[1] }}{{ ' or ' if not loop.last }}
        {%- endfor %}
        then 'out_of_range'
{%- endmacro %}


{#-
    The rows of `relation` (with their row_reason) and the rank of each among the copies of its key
    that passed their own checks: version_rank in the delivery order (the latest copy first, then the
    remaining columns, so the order is total), content_rank equal for identical copies.
#}
{% macro ranked_copies(relation, key_columns, order_by) -%}
    select
        *,
        row_number() over latest_first as version_rank,
        dense_rank() over latest_first as content_rank
    from {{ relation }}
    window latest_first as (
        partition by {{ key_columns | join(', ') }}, row_reason is null
        order by {{ order_by | join(', ') }}
    )
{%- endmacro %}


{#-
    The reason of a row after its own checks (row_reason) and the rank of its copy (ranked_copies):
    the first copy is staged, an identical copy is a duplicate_key, a different one superseded.
#}
{% macro version_reason() -%}
    coalesce(
        row_reason,
        case
            when version_rank = 1 then null
            when content_rank = 1 then 'duplicate_key'
            else 'superseded'
        end
    )
{%- endmacro %}
