-- One row per learner × course item the learner completed, with the first completion time.
with

events as (
    select * from {{ ref('stg_player__events') }}
),

items as (
    select * from {{ ref('stg_platform__course_items') }}
),

completions as (
    select
        events.learner_id,
        events.item_id,
        items.course_id,
        items.is_graded,
        min(events.occurred_at) as first_completed_at,
        count(*) as n_completions
    from events
    inner join items on events.item_id = items.item_id
    where events.event_type = 'item_complete'
    group by events.learner_id, events.item_id, items.course_id, items.is_graded
)

select * from completions
