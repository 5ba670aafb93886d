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


{#
    Decayed sums kept as state, exactly. A decayed sum over events,
        Σ strength × 0.5^((reference − t) / half-life),
    equals decay_at(Σ strength × decay_term(t), reference): each term 2^((t − epoch) / half-life)
    is fixed once its event is known, whatever the reference instant, so a sum of terms can be
    stored and extended with new events, and decayed to any reference when it is read. The terms
    are numeric, summed exactly in any order, so a sum extended day by day equals the sum a full
    refresh takes (a sum of doubles would differ in its last bits). They double every half-life
    after the epoch (var decay_epoch): with a 30-day half-life a double holds the decayed sum's
    factor for about 84 years after it.
    Events after the reference instant are not clamped here: time_decay counts them as fresh, so a
    caller subtracts decay_at(term) and adds 1 for each (int_reco_interactions).
#}
{% macro decay_epoch() -%}
    cast('{{ var("decay_epoch") }}' as timestamptz)
{%- endmacro %}


{% macro decay_term(event_at, half_life_days) -%}
    cast(
        power(
            cast(2 as double precision),
            cast(extract(epoch from ({{ event_at }}) - {{ decay_epoch() }}) as double precision)
            / (86400.0 * {{ half_life_days }})
        ) as numeric
    )
{%- endmacro %}


{% macro decay_at(decayed_sum, reference_at, half_life_days) -%}
    (
        cast({{ decayed_sum }} as double precision)
        * power(
            cast(2 as double precision),
            -cast(extract(epoch from ({{ reference_at }}) - {{ decay_epoch() }}) as double precision)
            / (86400.0 * {{ half_life_days }})
        )
    )
{%- endmacro %}
