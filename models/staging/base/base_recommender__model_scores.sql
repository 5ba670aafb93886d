{#
    Every raw model score row with the reason it is quarantined (null = valid).

    Incremental by batch: data scientists' offline jobs append whole batches (a batch still being
    written grows), and a daily run brings no new scores most days (then it only counts the rows of
    raw and of the table). A run rebuilds only the batches whose raw row count differs from the
    stored one (every batch on the first run), with
    delete+insert on (model_name, batch_id): a duplicate is ranked within its batch, so a rebuilt
    batch gets exactly the rows a full refresh gives it. Rows without a batch key (quarantined as
    missing_key) are added when new: EXCEPT ALL against the stored ones.
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
totals as (
    -- raw is append-only: equal row counts mean no new score, and the per-batch counts below
    -- are skipped (a one-time filter), two counts instead of two aggregations of every score
    select
        (select count(*) from {{ source('recommender', 'model_scores') }})
        != (select count(*) from {{ this }}) as has_new_rows
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

changed_batches as (
    -- EXCEPT compares nulls as equal: the batch of rows without a key is one group like any other
    select * from raw_batches
    except
    select * from stored_batches
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

known_learners as (
    select distinct learner_id from {{ source('platform', 'learners') }}
),

renamed as (
    select
        trim(source.model_name) as model_name,
        source.model_version,
        source.batch_id,
        source.learner_id,
        source.course_id,
        source.score,
        source.scored_at,
        known_learners.learner_id is null as is_orphan_learner,
        row_number() over (
            partition by source.model_name, source.batch_id, source.learner_id, source.course_id
            -- every column, so the order is total; plain columns, not a hash of the row (cheaper)
            order by source.scored_at desc, source.score asc, source.model_version asc
        ) as version_rank
    from source
    left join known_learners on source.learner_id = known_learners.learner_id
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
        case
            when model_name is null or batch_id is null or learner_id is null or course_id is null then 'missing_key'
            when version_rank > 1 then 'duplicate_key'
            when is_orphan_learner then 'orphan_learner'
            when
                score is null
                or score = cast('NaN' as float8)
                or score in (cast('Infinity' as float8), cast('-Infinity' as float8))
                then 'missing_value'
            when scored_at is null then 'missing_timestamp'
        end as quarantine_reason
    from renamed
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
