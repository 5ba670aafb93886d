-- Every message of the seed catalogue targets a segment registered in macros/coaching_segments.sql
-- (a typo would silently never send). Fails on every message with an unknown segment, kept in
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
        {%- for segment in coaching_segments() %}
        '{{ segment }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
)

select * from violations
