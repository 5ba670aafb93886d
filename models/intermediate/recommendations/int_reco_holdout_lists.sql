{#
    The hold-out run's lists (int_reco_lists' `holdout` rows), kept from the build that computed
    them with the digest of their inputs (int_reco_run_refresh): recommendation_performance
    evaluates these. A build where the hold-out is due replaces every row, in the model's
    transaction (the pre-hook deletes them, even when the new lists are empty); any other build
    adds nothing and keeps them. `full_refresh: false`: a full refresh of this model alone would
    find no hold-out lists to copy in a build where they are not due; a full refresh of what it is
    built from makes them due (int_reco_run_refresh) and so replaces them. A change to this model's
    code is in the digest too, so a new column is filled by the build that adds it.
#}
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'module', 'rank'],
        incremental_strategy='append',
        full_refresh=false,
        on_schema_change='sync_all_columns',
        pre_hook=["{% if is_incremental() %}delete from {{ this }} where (select is_due from {{ ref('int_reco_run_refresh') }} where run_key = 'holdout'){% endif %}"],
        post_hook=["{{ unique_index(['learner_id', 'module', 'rank']) }}"],
    )
}}

with

lists as (
    select * from {{ ref('int_reco_lists') }}
),

refresh as (
    select * from {{ ref('int_reco_run_refresh') }}
),

final as (
    select
        lists.learner_id,
        lists.module,
        lists.rank,
        lists.course_id,
        lists.score,
        lists.raw_score,
        lists.algorithm,
        lists.reason_course_id,
        lists.generated_at,
        refresh.inputs_digest as holdout_digest,
        refresh.code_digest
    from lists
    inner join refresh on lists.run_key = refresh.run_key
    where lists.run_key = 'holdout' and refresh.is_due
)

select * from final
