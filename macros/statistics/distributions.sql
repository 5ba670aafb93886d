{#
    Normal and chi-square distribution functions as portable SQL expressions (PostgreSQL 15..18:
    no erf/erfc, no CREATE FUNCTION). Each macro emits one scalar expression; the argument is
    evaluated once (it is bound in a one-row scalar subquery), so any expression may be passed.

    erfc(x) for x >= 0, relative error below 1e-13 everywhere (checked against scipy):
      x < 2:      erfc = 1 - erf, erf = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (2n+1)!!
                  (all terms positive: no cancellation inside the series; 14 terms below 0.5, 40 above)
      2 <= x:     Laplace continued fraction erfc = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
                  (depth 60, as the ratio of the convergent's polynomials)
      x >= 26.5:  0 (the true value is below 1e-306; PostgreSQL raises on exp underflow)
    exp(-x^2) is computed as exp(-s^2) * exp(-(x - s)(x + s)) with s = trunc(16 x)/16 (W. J. Cody's
    splitting), so the rounding of x^2 does not cost relative precision in the far tail.
    Upper tails are computed directly (never 1 - cdf), so tiny p-values keep their relative precision.

    The expressions are long (flat polynomials of up to 61 terms). They are emitted only when dbt
    executes (`execute`: run, build, compile, show); at parse time and in the SQL linter's Jinja
    templater (where `execute` is undefined) erfc and chi2_sf render a typed stand-in of their
    arguments, which keeps parsing fast and lints the calling model's own SQL.
#}

{% macro _exp_minus_square(x) -%}
    (exp(-(trunc(16 * {{ x }}) / 16) * (trunc(16 * {{ x }}) / 16))
        * exp(-({{ x }} - trunc(16 * {{ x }}) / 16) * ({{ x }} + trunc(16 * {{ x }}) / 16)))
{%- endmacro %}

{#-
    The series and the continued fraction are emitted as flat sums of positive terms c_j x^j with
    coefficients computed here at compile time: no cancellation, and no deep nesting for SQL parsers.
-#}
{#-
    x_floor: terms n >= 1 use max(x, x_floor) so that power() never underflows (PostgreSQL raises);
    below the floor those terms change erf by less than x_floor^3, i.e. erfc (~1) by as little.
-#}
{% macro _erfc_series(x, n_terms=40, x_floor=none) -%}
    {#- erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!, c_n = 2^n / (2n+1)!! -#}
    {%- set ns = namespace(coef=1.0, terms=[]) -%}
    {%- for n in range(n_terms + 1) -%}
        {%- if n > 0 -%}{%- set ns.coef = ns.coef * 2.0 / (2 * n + 1) -%}{%- endif -%}
        {%- set base = x if (n == 0 or x_floor is none) else 'greatest(' ~ x ~ ', ' ~ x_floor ~ ')' -%}
        {%- set ns.terms = ns.terms + [ns.coef ~ ' * power(' ~ base ~ ', ' ~ (2 * n + 1) ~ ')'] -%}
    {%- endfor -%}
    (1.0 - 1.1283791670955126 * {{ _exp_minus_square(x) }} * ({{ ns.terms | join(' + ') }}))
{%- endmacro %}

{% macro _erfc_continued_fraction(x, depth=60) -%}
    {#-
        The depth-th convergent P/Q of x + (1/2)/(x + 1/(x + (3/2)/(x + ...))) by the forward
        recurrence P_k = x P_(k-1) + (k/2) P_(k-2) (Q likewise); P and Q are polynomials in x
        with positive coefficients. erfc = exp(-x^2)/sqrt(pi) * Q / P.
    -#}
    {%- set ns = namespace(p_prev=[1.0], p=[0.0, 1.0], q_prev=[0.0], q=[1.0], new=[]) -%}
    {%- for k in range(1, depth + 1) -%}
        {%- set ns.new = [] -%}
        {%- for j in range(ns.p | length + 1) -%}
            {%- set shifted = ns.p[j - 1] if j >= 1 else 0.0 -%}
            {%- set carried = ns.p_prev[j] if j < ns.p_prev | length else 0.0 -%}
            {%- set ns.new = ns.new + [shifted + (k / 2) * carried] -%}
        {%- endfor -%}
        {%- set ns.p_prev = ns.p -%}
        {%- set ns.p = ns.new -%}
        {%- set ns.new = [] -%}
        {%- for j in range(ns.q | length + 1) -%}
            {%- set shifted = ns.q[j - 1] if j >= 1 else 0.0 -%}
            {%- set carried = ns.q_prev[j] if j < ns.q_prev | length else 0.0 -%}
            {%- set ns.new = ns.new + [shifted + (k / 2) * carried] -%}
        {%- endfor -%}
        {%- set ns.q_prev = ns.q -%}
        {%- set ns.q = ns.new -%}
    {%- endfor -%}
    {%- set ns.new = [] -%}
    {%- for c in ns.p -%}
        {%- if c != 0 -%}{%- set ns.new = ns.new + [c ~ ' * power(' ~ x ~ ', ' ~ loop.index0 ~ ')'] -%}{%- endif -%}
    {%- endfor -%}
    {%- set p_sql = ns.new | join(' + ') -%}
    {%- set ns.new = [] -%}
    {%- for c in ns.q -%}
        {%- if c != 0 -%}{%- set ns.new = ns.new + [c ~ ' * power(' ~ x ~ ', ' ~ loop.index0 ~ ')'] -%}{%- endif -%}
    {%- endfor -%}
    ({{ _exp_minus_square(x) }} * 0.5641895835477563 * ({{ ns.new | join(' + ') }}) / ({{ p_sql }}))
{%- endmacro %}

{#- erfc of a non-negative value already bound to the simple identifier x -#}
{% macro _erfc_nonnegative(x) -%}
    case
        when {{ x }} < 0.5 then {{ _erfc_series(x, n_terms=14, x_floor='1e-9') }}
        when {{ x }} < 2.0 then {{ _erfc_series(x, n_terms=40) }}
        when {{ x }} < 26.5 then {{ _erfc_continued_fraction(x) }}
        else cast(0.0 as double precision)
    end
{%- endmacro %}

{#- Complementary error function erfc(x) for any real x (erfc(-x) = 2 - erfc(x)). -#}
{% macro erfc(x) -%}
    {%- if not execute -%}
    {#- parse time and the SQL linter: a typed stand-in (see the note at the top) -#}
    cast(({{ x }}) as double precision)
    {%- else -%}
    (select
        case
            when erfc_abs.x is null then cast(null as double precision)
            when erfc_abs.x >= 0 then erfc_abs.erfc_abs_x
            else 2.0 - erfc_abs.erfc_abs_x
        end
    from (
        select
            erfc_arg.x,
            {{ _erfc_nonnegative('abs(erfc_arg.x)') }} as erfc_abs_x
        from (select cast({{ x }} as double precision) as x) as erfc_arg
    ) as erfc_abs)
    {%- endif -%}
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
        0.8: 0.8416212335729143,
        0.85: 1.0364333894937898,
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
    The same quantiles for a probability read at run time (a column, e.g. 1 - alpha / 2 or the
    planned power of an analysis plan): the exact constant of the nearest listed p (to 1e-9), null
    for any other p (never a silent approximation).
-#}
{% macro normal_quantile_of(p) -%}
    case
        {%- for q in [0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995] %}
        when abs(({{ p }}) - {{ q }}) < 1e-9 then {{ normal_quantile(q) }}
        {%- endfor %}
    end
{%- endmacro %}

{#-
    Chi-square upper tail P(X > x) for an integer number of degrees of freedom df in 1..max_df
    (df may be a column). Closed forms of the regularised upper incomplete gamma Q(df/2, x/2):
      even df = 2k:     exp(-t) * sum_{i<k} t^i / i!                              (t = x/2)
      odd df = 2k + 1:  erfc(sqrt t) + exp(-t) * 2 sqrt(t/pi) * sum_{i<k} t^i / ((3/2)(5/2)...(i+1/2))
    Every term is positive (no cancellation); the sums are flat (coefficients computed here). Terms
    i >= 2 use max(t, 1e-20) so power() never underflows (their contribution is then below 1e-40).
    For large t the product is taken in log space; a value below 1e-300 is returned as 0
    (PostgreSQL raises on exp underflow), as is any t above 1e5.
-#}
{% macro _chi2_tail_sum(t, k, odd) -%}
    {%- set ns = namespace(coef=1.0, terms=['1.0']) -%}
    {%- for i in range(1, k) -%}
        {%- set ns.coef = ns.coef / ((i + 0.5) if odd else i) -%}
        {%- set base = t if i == 1 else 'greatest(' ~ t ~ ', 1e-20)' -%}
        {%- set ns.terms = ns.terms + [ns.coef ~ ' * power(' ~ base ~ ', ' ~ i ~ ')'] -%}
    {%- endfor -%}
    ({{ ns.terms | join(' + ') }})
{%- endmacro %}

{% macro chi2_sf(x, df, max_df=30) -%}
    {%- if not execute -%}
    {#- parse time and the SQL linter: a typed stand-in (see the note at the top) -#}
    cast(({{ x }}) + ({{ df }}) as double precision)
    {%- else -%}
    (select
        case
            when chi2_tail.t is null or chi2_tail.df is null then cast(null as double precision)
            when chi2_tail.t <= 0 then cast(1.0 as double precision)
            when chi2_tail.t > 1e5 or chi2_tail.df not between 1 and {{ max_df }} then cast(null as double precision)
            else
                (case when chi2_tail.df % 2 = 1 then chi2_tail.erfc_sqrt_t else 0.0 end)
                + case
                    when chi2_tail.tail = 0 or ln(chi2_tail.tail) - chi2_tail.t < -690 then cast(0.0 as double precision)
                    when chi2_tail.t < 690 then exp(-chi2_tail.t) * chi2_tail.tail
                    else exp(ln(chi2_tail.tail) - chi2_tail.t)
                end
        end
    from (
        select
            chi2_arg.t,
            chi2_arg.df,
            chi2_arg.erfc_sqrt_t,
            case chi2_arg.df
                {%- for d in range(1, max_df + 1) %}
                {%- set k = d // 2 %}
                {%- if d % 2 == 0 %}
                when {{ d }} then {{ _chi2_tail_sum('chi2_arg.t', k, false) }}
                {%- elif k == 0 %}
                when {{ d }} then cast(0.0 as double precision)
                {%- else %}
                when {{ d }} then 1.1283791670955126 * sqrt(chi2_arg.t) * {{ _chi2_tail_sum('chi2_arg.t', k, true) }}
                {%- endif %}
                {%- endfor %}
            end as tail
        from (
            select
                chi2_half.t,
                chi2_half.df,
                {{ erfc('sqrt(chi2_half.t)') }} as erfc_sqrt_t
            from (select cast({{ x }} as double precision) / 2.0 as t, cast({{ df }} as integer) as df) as chi2_half
        ) as chi2_arg
    ) as chi2_tail)
    {%- endif -%}
{%- endmacro %}
