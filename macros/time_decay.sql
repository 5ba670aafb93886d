{#
    Exponential time decay: 1 at the reference instant, 0.5 one half-life earlier, and so on.
    Events after the reference instant (clock skew) count as fresh (weight 1), never more.
#}
{% macro time_decay(event_at, reference_at, half_life_days) -%}
    power(
        cast(0.5 as double precision),
        greatest(cast(extract(epoch from ({{ reference_at }}) - ({{ event_at }})) as double precision), 0)
        / (86400.0 * {{ half_life_days }})
    )
{%- endmacro %}
