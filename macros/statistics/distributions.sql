{#
    Normal and chi-square distribution functions as portable SQL expressions (PostgreSQL 15..18:
    no erf/erfc, no CREATE FUNCTION). Each macro emits one scalar expression; the argument is
    evaluated once (it is bound in a one-row scalar subquery), so any expression may be passed.

    erfc(x) for x >= 0, relative error below 1e-13 everywhere (checked against scipy):
      x < 2:      erfc = 1 - erf, erf = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (2n+1)!!
                  (all terms positive: no cancellation inside the series; 40 terms, Horner form)
      2 <= x:     Laplace continued fraction erfc = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
                  (depth 60, evaluated bottom-up)
      x >= 26.5:  0 (the true value is below 1e-306; PostgreSQL raises on exp underflow)
    exp(-x^2) is computed as exp(-s^2) * exp(-(x - s)(x + s)) with s = trunc(16 x)/16 (W. J. Cody's
    splitting), so the rounding of x^2 does not cost relative precision in the far tail.
    Upper tails are computed directly (never 1 - cdf), so tiny p-values keep their relative precision.
#}

{% macro _exp_minus_square(x) -%}
    (exp(-(trunc(16 * {{ x }}) / 16) * (trunc(16 * {{ x }}) / 16))
        * exp(-({{ x }} - trunc(16 * {{ x }}) / 16) * ({{ x }} + trunc(16 * {{ x }}) / 16)))
{%- endmacro %}

{% macro _erfc_series(x, n_terms=40) -%}
    {#- x * (1 + 2x^2/3 (1 + 2x^2/5 (1 + ...))) -#}
    {%- set ns = namespace(expr='1.0') -%}
    {%- for k in range(n_terms, 0, -1) -%}
        {%- set ns.expr = '(1.0 + 2.0 * ' ~ x ~ ' * ' ~ x ~ ' / ' ~ (2 * k + 1) ~ '.0 * ' ~ ns.expr ~ ')' -%}
    {%- endfor -%}
    (1.0 - 1.1283791670955126 * {{ _exp_minus_square(x) }} * {{ x }} * {{ ns.expr }})
{%- endmacro %}

{% macro _erfc_continued_fraction(x, depth=60) -%}
    {%- set ns = namespace(expr=x) -%}
    {%- for k in range(depth, 0, -1) -%}
        {%- set ns.expr = '(' ~ x ~ ' + ' ~ (k / 2) ~ ' / ' ~ ns.expr ~ ')' -%}
    {%- endfor -%}
    ({{ _exp_minus_square(x) }} * 0.5641895835477563 / {{ ns.expr }})
{%- endmacro %}

{#- erfc of a non-negative value already bound to the simple identifier x -#}
{% macro _erfc_nonnegative(x) -%}
    case
        when {{ x }} < 2.0 then {{ _erfc_series(x) }}
        when {{ x }} < 26.5 then {{ _erfc_continued_fraction(x) }}
        else cast(0.0 as double precision)
    end
{%- endmacro %}

{#- Complementary error function erfc(x) for any real x (erfc(-x) = 2 - erfc(x)). -#}
{% macro erfc(x) -%}
    (select
        case
            when erfc_arg.x is null then cast(null as double precision)
            when erfc_arg.x >= 0 then {{ _erfc_nonnegative('erfc_arg.x') }}
            else 2.0 - ({{ _erfc_nonnegative('(-erfc_arg.x)') }})
        end
    from (select cast({{ x }} as double precision) as x) as erfc_arg)
{%- endmacro %}

{#- Upper tail of the standard normal, P(Z > z) = erfc(z / sqrt 2) / 2. -#}
{% macro normal_sf(z) -%}
    (0.5 * {{ erfc('(' ~ z ~ ') * 0.7071067811865476') }})
{%- endmacro %}

{#- Standard normal distribution function Phi(z) = P(Z <= z) = erfc(-z / sqrt 2) / 2. -#}
{% macro normal_cdf(z) -%}
    (0.5 * {{ erfc('-(' ~ z ~ ') * 0.7071067811865476') }})
{%- endmacro %}

{#- Two-sided p-value of a z statistic: P(|Z| > |z|) = erfc(|z| / sqrt 2). -#}
{% macro normal_two_sided_p(z) -%}
    {{ erfc('abs(' ~ z ~ ') * 0.7071067811865476') }}
{%- endmacro %}

{#-
    Standard normal quantile for the probabilities intervals use, as exact double constants
    (scipy.stats.norm.ppf). Only these are needed (compile-time confidence levels); any other p is
    a compile error rather than a silent approximation.
-#}
{% macro normal_quantile(p) -%}
    {%- set known = {
        0.9: 1.2815515655446004,
        0.95: 1.6448536269514722,
        0.975: 1.959963984540054,
        0.99: 2.3263478740408408,
        0.995: 2.5758293035489004,
        0.9995: 3.2905267314918945,
    } -%}
    {%- if p not in known -%}
        {{ exceptions.raise_compiler_error("normal_quantile: no exact constant for p = " ~ p ~ "; add it from scipy.stats.norm.ppf") }}
    {%- endif -%}
    cast({{ known[p] }} as double precision)
{%- endmacro %}

{#-
    Chi-square upper tail P(X > x) for an integer number of degrees of freedom df in 1..max_df
    (df may be a column). Closed forms of the regularised upper incomplete gamma Q(df/2, x/2):
      even df = 2k:     exp(-t) * sum_{i<k} t^i / i!                              (t = x/2)
      odd df = 2k + 1:  erfc(sqrt t) + exp(-t) * sum_{i=1..k} t^(i-1/2) / Gamma(i + 1/2)
    Every term is positive (no cancellation). For large t the sum is combined in log space and a
    value below 1e-300 is returned as 0 (PostgreSQL raises on exp underflow).
-#}
{% macro chi2_sf(x, df, max_df=30) -%}
    (select
        case
            when chi2_arg.t is null or chi2_arg.df is null then cast(null as double precision)
            when chi2_arg.t <= 0 then cast(1.0 as double precision)
            {%- for d in range(1, max_df + 1) %}
            {%- set k = d // 2 %}
            {%- if d % 2 == 0 %}
            {%- set ns = namespace(expr='1.0') %}
            {%- for i in range(k - 1, 0, -1) %}
            {%- set ns.expr = '(1.0 + chi2_arg.t / ' ~ i ~ '.0 * ' ~ ns.expr ~ ')' %}
            {%- endfor %}
            when chi2_arg.df = {{ d }} then
                case
                    when ln({{ ns.expr }}) - chi2_arg.t < -690 then cast(0.0 as double precision)
                    when chi2_arg.t < 690 then exp(-chi2_arg.t) * {{ ns.expr }}
                    else exp(ln({{ ns.expr }}) - chi2_arg.t)
                end
            {%- else %}
            {%- set ns = namespace(expr='1.0') %}
            {%- for i in range(k - 1, 0, -1) %}
            {%- set ns.expr = '(1.0 + chi2_arg.t / ' ~ (i + 0.5) ~ ' * ' ~ ns.expr ~ ')' %}
            {%- endfor %}
            when chi2_arg.df = {{ d }} then
                {{ erfc('sqrt(chi2_arg.t)') }}
                {%- if k > 0 %}
                + case
                    when ln(1.1283791670955126 * sqrt(chi2_arg.t) * {{ ns.expr }}) - chi2_arg.t < -690
                        then cast(0.0 as double precision)
                    when chi2_arg.t < 690 then exp(-chi2_arg.t) * 1.1283791670955126 * sqrt(chi2_arg.t) * {{ ns.expr }}
                    else exp(ln(1.1283791670955126 * sqrt(chi2_arg.t) * {{ ns.expr }}) - chi2_arg.t)
                end
                {%- endif %}
            {%- endif %}
            {%- endfor %}
        end
    from (select cast({{ x }} as double precision) / 2.0 as t, cast({{ df }} as integer) as df) as chi2_arg)
{%- endmacro %}
