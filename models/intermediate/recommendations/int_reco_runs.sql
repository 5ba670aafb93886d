-- One row per recommendation run. `live` builds the lists consumers read, from all loaded data,
-- decayed relative to as_of. `holdout` rebuilds them exactly the same way from the data before a
-- cutoff so that recommendation_performance can compare them with the enrolments made after it.
-- The cutoff is weekly: the start (Monday 00:00 UTC) of the ISO week holding as_of minus the
-- hold-out days, so the evaluation's test window is 14 to 20 days long (default), and the
-- hold-out's training data stays put for a week: int_reco_course_views keeps it as state and
-- recomputes it when the cutoff moves. Every producer computes its candidates per run from these
-- rows: the same SQL serves the live lists and the offline evaluation.

with

runs as (
    select
        'live' as run_key,
        {{ as_of() }} as cutoff_at,
        -- live: everything loaded, like the core marts (fct_course_progress) it must agree with
        cast('infinity' as timestamptz) as history_until_at
    union all
    select
        'holdout' as run_key,
        {{ recommendation_holdout_cutoff() }} as cutoff_at,
        {{ recommendation_holdout_cutoff() }} as history_until_at
),

final as (
    select
        run_key,
        cutoff_at,
        history_until_at
    from runs
)

select * from final
