{#
    Wilson score interval for a binomial proportion: successes out of trials, as a SQL expression
    (double precision) for one bound, 'lower' or 'upper', in [0, 1]; null when trials is 0 or null.
    z defaults to the two-sided 95% normal quantile, exact to double precision (norm.isf(0.025)).
    Same formula as statsmodels proportion_confint(method='wilson'):
        center = (p + z^2 / 2n) / (1 + z^2 / n)
        half   = z * sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n)
    Clamped to [0, 1]: at 0 (or n) successes the bound is exactly 0 (or 1), and rounding could
    otherwise land 1e-17 outside.
    Usage: {{ wilson_interval('n_rated_helpful', 'n_rated', 'upper') }} as helpfulness_ci_high
#}
{% macro wilson_interval(successes, trials, bound, z=1.959963984540054) -%}
    {%- if bound not in ('lower', 'upper') -%}
        {{ exceptions.raise_compiler_error("wilson_interval: bound must be 'lower' or 'upper', got " ~ bound) }}
    {%- endif -%}
    {%- set n = 'cast(' ~ trials ~ ' as double precision)' -%}
    {%- set p = '(cast(' ~ successes ~ ' as double precision) / nullif(' ~ n ~ ', 0))' -%}
    {%- set z2 = '(' ~ z ~ ' * ' ~ z ~ ')' -%}
    case when {{ n }} > 0 then
        greatest(0.0, least(1.0,
            (
                ({{ p }} + {{ z2 }} / (2 * {{ n }}))
                {{ '-' if bound == 'lower' else '+' }} {{ z }} * sqrt({{ p }} * (1 - {{ p }}) / {{ n }} + {{ z2 }} / (4 * {{ n }} * {{ n }}))
            ) / (1 + {{ z2 }} / {{ n }})
        ))
    end
{%- endmacro %}
