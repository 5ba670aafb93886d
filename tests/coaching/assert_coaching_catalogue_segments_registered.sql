-- Every message of the seed catalogue targets a registered segment, one int_coaching_segments_unioned
-- lists (a typo would silently never send). Fails on every message with an unknown segment, kept in
-- dbt_test__audit (dbt's failure message gives the query that lists them).
{{ config(store_failures=true) }}

with

catalogue as (
    select * from {{ ref('coaching_messages') }}
),

violations as (
    select
        message_key,
        segment
    from catalogue
    where segment not in (
        {%- for segment in registry_member_list('int_coaching_segments_unioned', 'int_coaching_segment_') %}
        '{{ segment.key }}',
        {%- endfor %}
        ''
    )
)

select * from violations
