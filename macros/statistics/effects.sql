{#
    Two-sample statistics from per-variant sufficient statistics (n, means, sample variances and
    covariances from var_samp / covar_samp: numerically stable, never sum-of-squares differences).
    Each macro emits a scalar SQL expression over the column names (or expressions) it is given.

    Every metric is handled as a ratio of per-learner sums, R = mean(num) / mean(den); a mean or
    proportion metric is the special case den = 1 (var_den = cov = 0, so every formula reduces to
    the plain two-sample one exactly).
#}

{#- Ratio estimate R = mean_num / mean_den. -#}
{% macro ratio_estimate(mean_num, mean_den) -%}
    ({{ mean_num }} / nullif({{ mean_den }}, 0))
{%- endmacro %}

{#-
    Delta-method variance of one learner's contribution to a ratio (the variance of the linearised
    value (num - R den) / mean_den): Var(R) = this / n. For den = 1 it is var_num.
-#}
{% macro delta_ratio_variance(var_num, var_den, cov_num_den, mean_num, mean_den) -%}
    (({{ var_num }}
        - 2.0 * {{ ratio_estimate(mean_num, mean_den) }} * {{ cov_num_den }}
        + {{ ratio_estimate(mean_num, mean_den) }} * {{ ratio_estimate(mean_num, mean_den) }} * {{ var_den }})
        / nullif({{ mean_den }} * {{ mean_den }}, 0))
{%- endmacro %}

{#-
    Delta-method covariance between the linearised values of two ratios y/d and x/e measured on the
    same learners (the metric and its pre-window value, for CUPED):
    (cov_yx - Rx cov_ye - Ry cov_dx + Ry Rx cov_de) / (mean_d mean_e).
-#}
{% macro delta_ratio_covariance(cov_yx, cov_ye, cov_dx, cov_de, mean_y, mean_d, mean_x, mean_e) -%}
    (({{ cov_yx }}
        - {{ ratio_estimate(mean_x, mean_e) }} * {{ cov_ye }}
        - {{ ratio_estimate(mean_y, mean_d) }} * {{ cov_dx }}
        + {{ ratio_estimate(mean_y, mean_d) }} * {{ ratio_estimate(mean_x, mean_e) }} * {{ cov_de }})
        / nullif({{ mean_d }} * {{ mean_e }}, 0))
{%- endmacro %}

{#- Welch (unequal variances) standard error of a difference of two means: sqrt(var_t/n_t + var_c/n_c). -#}
{% macro welch_se(var_t, n_t, var_c, n_c) -%}
    sqrt({{ var_t }} / nullif({{ n_t }}, 0) + {{ var_c }} / nullif({{ n_c }}, 0))
{%- endmacro %}

{#- z statistic, null when the standard error is 0 or null. -#}
{% macro z_statistic(effect, se) -%}
    ({{ effect }} / nullif({{ se }}, 0))
{%- endmacro %}

{#- Bounds of a two-sided normal interval: estimate -/+ z_quantile se (0.975: the 95% interval). -#}
{% macro ci_low(estimate, se, quantile=0.975) -%}
    ({{ estimate }} - {{ normal_quantile(quantile) }} * {{ se }})
{%- endmacro %}

{% macro ci_high(estimate, se, quantile=0.975) -%}
    ({{ estimate }} + {{ normal_quantile(quantile) }} * {{ se }})
{%- endmacro %}

{#- Relative lift mean_t / mean_c - 1. -#}
{% macro relative_lift(mean_t, mean_c) -%}
    ({{ mean_t }} / nullif({{ mean_c }}, 0) - 1.0)
{%- endmacro %}

{#-
    Delta-method standard error of the relative lift mean_t / mean_c - 1 for independent arms with
    standard errors se_t and se_c of the means: sqrt(se_t^2 + (mean_t/mean_c)^2 se_c^2) / |mean_c|.
-#}
{% macro relative_lift_se(mean_t, se_t, mean_c, se_c) -%}
    (sqrt({{ se_t }} * {{ se_t }}
        + ({{ mean_t }} / nullif({{ mean_c }}, 0)) * ({{ mean_t }} / nullif({{ mean_c }}, 0)) * {{ se_c }} * {{ se_c }})
        / nullif(abs({{ mean_c }}), 0))
{%- endmacro %}

{#- Variance of y - theta x from var(y), cov(y, x), var(x) (the CUPED-adjusted value). -#}
{% macro adjusted_variance(var_y, cov_yx, var_x, theta) -%}
    ({{ var_y }} - 2.0 * {{ theta }} * {{ cov_yx }} + {{ theta }} * {{ theta }} * {{ var_x }})
{%- endmacro %}
