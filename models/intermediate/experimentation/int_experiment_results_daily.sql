-- One row per experiment × metric × treatment variant × analysis date: the relative lift against
-- the control and its always-valid (sequential) interval as a reader would have seen them at the
-- end of that date (UTC), i.e. from the learners whose metric window had ended by then. The last
-- date's figures are those of int_experiment_results. Every date on which any arm of the metric
-- gained learners is a row; an arm without new learners that day keeps its previous figures.
-- Each arm's running n, means, variances and covariance come from window aggregates read in
-- (date, learner) order (PostgreSQL's Youngs-Cramer accumulation; identical from build to build).
with

learner_metrics as (
    select * from {{ ref('int_experiment_learner_metrics_capped') }}
),

completed as (
    select
        experiment_key,
        metric_key,
        variant_key,
        is_control,
        learner_id,
        numerator,
        denominator,
        cast(
            (assigned_at + interval '{{ var("experiment_window_days", 14) }} days') at time zone 'UTC' as date
        ) as analysis_date
    from learner_metrics
),

running as (
    select
        experiment_key,
        metric_key,
        variant_key,
        is_control,
        analysis_date,
        count(*) over arm_so_far as n,
        avg(numerator) over arm_so_far as mean_num,
        avg(denominator) over arm_so_far as mean_den,
        var_samp(numerator) over arm_so_far as var_num,
        var_samp(denominator) over arm_so_far as var_den,
        covar_samp(numerator, denominator) over arm_so_far as cov_num_den,
        row_number() over (
            partition by experiment_key, metric_key, variant_key, analysis_date
            order by learner_id desc
        ) as day_rank
    from completed
    window arm_so_far as (
        partition by experiment_key, metric_key, variant_key
        order by analysis_date, learner_id
        rows between unbounded preceding and current row
    )
),

arm_days as (
    -- each arm at the end of each date on which it gained learners
    select
        experiment_key,
        metric_key,
        variant_key,
        is_control,
        analysis_date,
        n,
        {{ ratio_estimate('mean_num', 'mean_den') }} as mean_value,
        {{ delta_ratio_variance('var_num', 'var_den', 'cov_num_den', 'mean_num', 'mean_den') }} as var_value
    from running
    where day_rank = 1
),

analysis_dates as (
    select distinct
        experiment_key,
        metric_key,
        analysis_date
    from arm_days
),

arms_as_of as (
    -- every arm as of every analysis date of its metric: its latest day at or before the date
    select
        analysis_dates.experiment_key,
        analysis_dates.metric_key,
        analysis_dates.analysis_date,
        arm_days.variant_key,
        arm_days.is_control,
        arm_days.n,
        arm_days.mean_value,
        arm_days.var_value,
        row_number() over (
            partition by
                analysis_dates.experiment_key, analysis_dates.metric_key, analysis_dates.analysis_date,
                arm_days.variant_key
            order by arm_days.analysis_date desc
        ) as recency
    from analysis_dates
    inner join arm_days
        on
            analysis_dates.experiment_key = arm_days.experiment_key
            and analysis_dates.metric_key = arm_days.metric_key
            and analysis_dates.analysis_date >= arm_days.analysis_date
),

arms as (
    select *
    from arms_as_of
    where recency = 1
),

pairs as (
    select
        treatment.experiment_key,
        treatment.metric_key,
        treatment.variant_key,
        treatment.analysis_date,
        control.n as n_control,
        treatment.n as n_treatment,
        control.mean_value as mean_control,
        treatment.mean_value as mean_treatment,
        {{ relative_lift('treatment.mean_value', 'control.mean_value') }} as relative_lift,
        {{ relative_lift_se(
            'treatment.mean_value', 'sqrt(treatment.var_value / treatment.n)',
            'control.mean_value', 'sqrt(control.var_value / control.n)'
        ) }} as relative_se
    from arms as treatment
    inner join arms as control
        on
            treatment.experiment_key = control.experiment_key
            and treatment.metric_key = control.metric_key
            and treatment.analysis_date = control.analysis_date
            and control.is_control
    where not treatment.is_control
),

intervals as (
    select
        *,
        {{ sequential_halfwidth(
            'relative_se', 'n_control + n_treatment', experiment_alpha(), experiment_sequential_tuning()
        ) }} as seq_halfwidth
    from pairs
),

final as (
    select
        experiment_key,
        metric_key,
        variant_key,
        analysis_date,
        n_control,
        n_treatment,
        mean_control,
        mean_treatment,
        relative_lift,
        relative_se,
        {{ ci_low('relative_lift', 'relative_se') }} as relative_ci_low,
        {{ ci_high('relative_lift', 'relative_se') }} as relative_ci_high,
        relative_lift - seq_halfwidth as seq_ci_low,
        relative_lift + seq_halfwidth as seq_ci_high,
        coalesce(relative_lift - seq_halfwidth > 0 or relative_lift + seq_halfwidth < 0, false) as seq_is_significant
    from intervals
)

select * from final
