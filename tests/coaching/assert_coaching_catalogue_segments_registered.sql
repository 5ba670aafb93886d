-- Every message of the seed catalogue targets a segment registered in macros/coaching_segments.sql
-- (a typo would silently never send). Fails on every message with an unknown segment.
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
