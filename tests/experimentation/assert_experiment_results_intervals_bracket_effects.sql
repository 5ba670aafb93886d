-- Every interval contains its point estimate, every p-value is a probability, and the
-- Benjamini-Hochberg adjustment never lowers a p-value.
select
    experiment_key,
    metric_key,
    variant_key
from {{ ref('experiment_results') }}
where
    not (absolute_ci_low <= absolute_effect and absolute_effect <= absolute_ci_high)
    or not (relative_ci_low <= relative_lift and relative_lift <= relative_ci_high)
    or not (cuped_ci_low <= cuped_absolute_effect and cuped_absolute_effect <= cuped_ci_high)
    or not (p_value between 0 and 1)
    or not (cuped_p_value between 0 and 1)
    or not (p_value_adjusted between p_value * (1 - 1e-12) and 1)
    or not (variance_reduction between 0 and 1)
