-- One row per recommendation module with impressions: the online click-through counts that
-- recommendation_performance reports beside the offline hold-out quality.
with

impressions as (
    select * from {{ ref('stg_recommender__impressions') }}
),

final as (
    select
        module,
        count(*) as impressions,
        count(clicked_at) as clicks
    from impressions
    group by module
)

select * from final
