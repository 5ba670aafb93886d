-- One row per experiment × metric × variant: the sufficient statistics every comparison needs.
-- Every metric is a ratio of per-learner sums (num/den; den = 1 for mean and proportion metrics);
-- x/e are the pre-window numerator/denominator (the CUPED covariate). Variances and covariances
-- come from var_samp / covar_samp (PostgreSQL's Youngs-Cramer accumulation: numerically stable,
-- never a difference of sums of squares). Each aggregate reads its rows in learner order, so the
-- floating-point sums (and every statistic built on them) are identical from one build to the next.
with

learner_metrics as (
    select * from {{ ref('int_experiment_learner_metrics_capped') }}
),

final as (
    select
        experiment_key,
        metric_key,
        variant_key,
        bool_and(is_control) as is_control,
        min(metric_type) as metric_type,
        count(*) as n,
        avg(numerator order by learner_id) as mean_num,
        avg(denominator order by learner_id) as mean_den,
        avg(pre_numerator order by learner_id) as mean_pre_num,
        avg(pre_denominator order by learner_id) as mean_pre_den,
        var_samp(numerator order by learner_id) as var_num,
        var_samp(denominator order by learner_id) as var_den,
        covar_samp(numerator, denominator order by learner_id) as cov_num_den,
        var_samp(pre_numerator order by learner_id) as var_pre_num,
        var_samp(pre_denominator order by learner_id) as var_pre_den,
        covar_samp(pre_numerator, pre_denominator order by learner_id) as cov_pre_num_pre_den,
        covar_samp(numerator, pre_numerator order by learner_id) as cov_num_pre_num,
        covar_samp(numerator, pre_denominator order by learner_id) as cov_num_pre_den,
        covar_samp(denominator, pre_numerator order by learner_id) as cov_den_pre_num,
        covar_samp(denominator, pre_denominator order by learner_id) as cov_den_pre_den
    from learner_metrics
    group by experiment_key, metric_key, variant_key
)

select * from final
