{#
    Every raw model score row with the reason it is quarantined (null = valid).

    Incremental by batch: data scientists' offline jobs append whole batches (a batch still being
    written grows), and a daily run brings no new scores most days (then it only counts the rows of
    raw and of the table). A run rebuilds only the batches whose raw row count differs from the
    stored one (every batch on the first run), and the batches holding a row quarantined as
    in_future that as_of has caught up with, with delete+insert on (model_name, batch_id): a
    duplicate is ranked within its batch, so a rebuilt batch gets exactly the rows a full refresh
    gives it. Rows without a batch key (quarantined as missing_key) are added when new: EXCEPT ALL
    against the stored ones.
    A score delivered twice in a batch: the later scored_at wins, ties broken by the other columns.
#}
{#- the post-hook enforces the stg_ view's key where it is written (macros/unique_index.sql) #}
{{
    config(
        materialized='incremental',
        unique_key=['model_name', 'batch_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "{{ unique_index(['model_name', 'batch_id', 'learner_id', 'course_id'], where='quarantine_reason is null') }}",
        ],
    )
}}

{%- set columns = [
    'model_name', 'model_version', 'batch_id', 'learner_id', 'course_id', 'score', 'scored_at',
    'quarantine_reason',
] %}

with

{% if is_incremental() %}
stored_totals as (
    -- one pass over the stored rows: how many, and how many in_future rows as_of has caught up with
    select
        count(*) as n_rows,
        sum(
            case when quarantine_reason = 'in_future' and scored_at <= {{ latest_plausible_at() }} then 1 else 0 end
        ) as n_matured
    from {{ this }}
),

totals as (
    -- raw is append-only: equal row counts mean no new score, and the per-batch counts below
    -- are skipped (a one-time filter), two counts instead of two aggregations of every score
    select
        (select count(*) from {{ source('recommender', 'model_scores') }})
        != (select stored_totals.n_rows from stored_totals) as has_new_rows,
        (select stored_totals.n_matured from stored_totals) > 0 as has_matured_rows
),

raw_batches as (
    select
        trim(model_name) as model_name,
        batch_id,
        count(*) as n_rows
    from {{ source('recommender', 'model_scores') }}
    where (select totals.has_new_rows from totals)
    group by trim(model_name), batch_id
),

stored_batches as (
    select
        model_name,
        batch_id,
        count(*) as n_rows
    from {{ this }}
    where (select totals.has_new_rows from totals)
    group by model_name, batch_id
),

matured_batches as (
    select distinct
        model_name,
        batch_id
    from {{ this }}
    where
        (select totals.has_matured_rows from totals)
        and quarantine_reason = 'in_future'
        and scored_at <= {{ latest_plausible_at() }}
),

changed_batches as (
    -- EXCEPT compares nulls as equal: the batch of rows without a key is one group like any other
    select
        grown.model_name,
        grown.batch_id
    from (
        select * from raw_batches
        except
        select * from stored_batches
    ) as grown
    union
    select
        matured_batches.model_name,
        matured_batches.batch_id
    from matured_batches
),
{% endif %}

source as (
    select raw_scores.*
    from {{ source('recommender', 'model_scores') }} as raw_scores
    {% if is_incremental() %}
    -- (changed_batches first: dbt-bouncer's fallback scan takes a qualified column right after
    -- "distinct from" for a hard-coded table)
    inner join changed_batches
        on
            changed_batches.model_name is not distinct from trim(raw_scores.model_name)
            and changed_batches.batch_id is not distinct from (raw_scores.batch_id)
    {% endif %}
),

learners as (
    select * from {{ ref('stg_platform__learners') }}
),

courses as (
    select * from {{ ref('stg_platform__courses') }}
),

renamed as (
    select
        trim(model_name) as model_name,
        model_version,
        batch_id,
        learner_id,
        course_id,
        score,
        scored_at
    from source
),

row_checked as (
    select
        renamed.*,
        case
            when
                renamed.model_name is null or renamed.batch_id is null or renamed.learner_id is null
                or renamed.course_id is null
                then 'missing_key'
            when learners.learner_id is null then 'orphan_learner'
            when courses.course_id is null then 'orphan_course'
            when
                renamed.score is null
                or renamed.score = cast('NaN' as float8)
                or renamed.score in (cast('Infinity' as float8), cast('-Infinity' as float8))
                then 'missing_value'
            when renamed.scored_at is null then 'missing_timestamp'
            {{ implausible_timestamps(['renamed.scored_at']) }}
            {{ before_signup('renamed.scored_at') }}
        end as row_reason
    from renamed
    left join learners on renamed.learner_id = learners.learner_id
    left join courses on renamed.course_id = courses.course_id
),

ranked as (
    {{ ranked_copies('row_checked', ['model_name', 'batch_id', 'learner_id', 'course_id'], [
        'scored_at desc', 'score asc', 'model_version asc',
    ]) }}
),

checked as (
    select
        model_name,
        model_version,
        batch_id,
        learner_id,
        course_id,
        score,
        scored_at,
        {{ version_reason() }} as quarantine_reason
    from ranked
),

{% if is_incremental() %}
final as (
    select * from checked
    where model_name is not null and batch_id is not null
    union all
    (
        -- delete+insert cannot match a null key: add only the key-less rows not stored yet
        select {{ columns | join(', ') }} from checked
        where model_name is null or batch_id is null
        except all
        select {{ columns | join(', ') }} from {{ this }}
        where model_name is null or batch_id is null
    )
)
{% else %}
final as (
    select * from checked
)
{% endif %}

select * from final
