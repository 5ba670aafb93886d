{#
    Always-valid (sequential) intervals: the asymptotic confidence sequence of Waudby-Smith et al.
    ("Time-uniform central limit theory and asymptotic confidence sequences", arXiv 2103.06476,
    eq. 9), as GrowthBook's gbstats computes it (frequentist `sequential_interval_halfwidth`).

    For an estimate with standard error se from n units in all (both arms), the two-sided
    half-width at level alpha is

        se * sqrt(n) * sqrt(2 (n rho^2 + 1) ln(sqrt(n rho^2 + 1) / alpha) / (n rho)^2)
      = se * sqrt(2 (n rho^2 + 1) ln(sqrt(n rho^2 + 1) / alpha) / (n rho^2))

    with rho^2 = (-2 ln alpha + ln(-2 ln alpha + 1)) / N (eq. 161): the interval is tightest
    around N units (the tuning parameter, GrowthBook's default 5000). The interval covers the
    true effect at every look at once with probability >= 1 - alpha (asymptotically), so it may be
    read every day. Only ln and sqrt: portable, no erf.
#}

{#- rho^2 of the two-sided confidence sequence at level alpha tuned for n_star units. -#}
{% macro sequential_rho_squared(alpha, n_star) -%}
    ((-2.0 * ln({{ alpha }}) + ln(-2.0 * ln({{ alpha }}) + 1.0)) / ({{ n_star }}))
{%- endmacro %}

{#- Half-width of the two-sided always-valid interval of an estimate with standard error se from n units. -#}
{% macro sequential_halfwidth(se, n, alpha, n_star) -%}
    (({{ se }}) * sqrt(
        2.0 * (({{ n }}) * {{ sequential_rho_squared(alpha, n_star) }} + 1.0)
        * ln(sqrt(({{ n }}) * {{ sequential_rho_squared(alpha, n_star) }} + 1.0) / ({{ alpha }}))
        / nullif(({{ n }}) * {{ sequential_rho_squared(alpha, n_star) }}, 0)
    ))
{%- endmacro %}
