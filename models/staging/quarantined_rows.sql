{#
    One row per raw row kept out of staging, with the source table, the row's key and the reason:
    the rows of every base model whose quarantine_reason is set, one branch per entry of the declared
    list quarantined_sources() (macros/staging/quarantined_sources.sql). Each base model's own test
    (source_reconciles) proves raw = staged + quarantined for its source.
#}
with

{% for entry in quarantined_sources() %}
{{ entry.model }} as (
    select
        '{{ entry.source_table }}' as source_table,
        {{ entry.record_key }} as record_key,
        {{ entry.learner_id or 'cast(null as bigint)' }} as learner_id,
        quarantine_reason
    from {{ ref(entry.model) }}
    where quarantine_reason is not null
),

{% endfor %}
quarantined as (
    {% for entry in quarantined_sources() %}
    select * from {{ entry.model }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from quarantined
