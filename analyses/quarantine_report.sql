-- What the platform sent that staging rejected, by source table and reason (data quality triage).
with

quarantined as (
    select * from {{ ref('quarantined_rows') }}
),

report as (
    select
        source_table,
        quarantine_reason,
        count(*) as n_rows,
        count(distinct learner_id) as n_learners
    from quarantined
    group by source_table, quarantine_reason
)

select * from report
order by source_table asc, n_rows desc
