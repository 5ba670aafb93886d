{#
    Nothing is dropped silently, per source table: raw rows = rows of the source's base model =
    staged rows (its stg_ view) + quarantined rows (the base rows with a reason, which
    quarantined_rows shows when quarantined_sources() lists the model), and every reason is one of
    quarantine_reasons(). Attached to the base model and reading only the source, the base
    model and the stg_ view, so `dbt build` skips everything built on a source that does not
    reconcile and still builds the rest. Fails with one row (stored: dbt prints where) naming the
    source, the counts, the problem and what to do; tagged `reconciliation`, so lp names the failure
    and the recovery command after a build.
    Usage (in the base model's yml):
      data_tests:
        - source_reconciles:
            name: reconcile_raw_events
            arguments:
              source_relation: source('player', 'events')
              staged: ref('stg_player__events')
#}
{% test source_reconciles(model, source_relation, staged) %}
{{ config(store_failures=true, tags=['reconciliation']) }}

with

raw_rows as (
    select count(*) as n_raw from {{ source_relation }}
),

base_rows as (
    select count(*) as n_base from {{ model }}
),

quarantined as (
    -- (apart: an index on quarantine_reason answers both counts without reading the table)
    select
        count(*) as n_quarantined,
        coalesce(
            sum(case when quarantine_reason not in ('{{ quarantine_reasons() | join("', '") }}') then 1 else 0 end), 0
        ) as n_unknown_reason
    from {{ model }}
    where quarantine_reason is not null
),

staged_rows as (
    select count(*) as n_staged from {{ staged }}
),

counts as (
    select
        '{{ source_relation.schema }}.{{ source_relation.identifier }}' as source_table,
        raw_rows.n_raw,
        base_rows.n_base,
        staged_rows.n_staged,
        quarantined.n_quarantined,
        quarantined.n_unknown_reason
    from raw_rows
    cross join base_rows
    cross join quarantined
    cross join staged_rows
),

problems as (
    select
        *,
        case
            when n_base > n_raw
                then 'staging holds ' || (n_base - n_raw) || ' rows that are no longer in raw (deleted there after they were staged)'
            when n_base < n_raw
                then 'raw holds ' || (n_raw - n_base) || ' rows that staging has not read'
            when n_staged != n_base - n_quarantined
                then 'the stg_ view holds ' || n_staged || ' rows, the base table ' || (n_base - n_quarantined) || ' valid ones'
            when n_unknown_reason > 0
                then n_unknown_reason || ' rows carry a quarantine reason that quarantine_reasons() does not list'
            {%- if model.identifier not in quarantined_sources() | map(attribute='model') | list %}
            else '{{ model.identifier }} has no entry in quarantined_sources(), so quarantined_rows misses its rows'
            {%- endif %}
        end as problem
    from counts
)

select
    *,
    'rebuild {{ model.identifier }} from raw and what is built on it: lp rebuild -s {{ model.identifier }}'
    || ' (README "Recovery", docs/bad_input.md)' as what_to_do
from problems
where problem is not null

{% endtest %}
