-- One row per experiment × metric × learner: the learner's value of every metric the experiment's
-- analysis plan names, over the metric window (pre_value: the pre-window, the CUPED covariate).
-- Computed once in int_experiment_learner_metrics, which the results' statistics also read. The
-- contract fixes the columns.
with

learner_metrics as (
    select * from {{ ref('int_experiment_learner_metrics') }}
)

select * from learner_metrics
