{#-
    The coaching holdout: a deterministic global control group of learners who never get a coaching
    message. A learner's bucket is the first 8 hex digits of md5(salt || learner_id) read as an
    integer, modulo 10000; the learner is in the holdout when the bucket is below
    coaching_holdout_share x 10000. md5 is computed identically by every database and by Python
    (lpdata.generate.coaching.in_holdout), so the synthetic generator plants the same group.
    The hex digits are read with position() in '0123456789abcdef' (portable: no hex cast).
-#}
{% macro coaching_holdout_bucket(learner_id) -%}
    {#- dbt's cross-database macros; the SQL linter's Jinja templater has no dbt namespace: plain SQL there -#}
    {%- set keyed = "'" ~ var('coaching_holdout_salt') ~ "' || cast(" ~ learner_id ~ " as text)" -%}
    {%- if dbt is defined -%}
        {%- set keyed = dbt.concat(["'" ~ var('coaching_holdout_salt') ~ "'", dbt.cast(learner_id, dbt.type_string())]) -%}
    {%- endif -%}
    {%- set digest = dbt.hash(keyed) if dbt is defined else 'md5(' ~ keyed ~ ')' -%}
    {%- set bigint = dbt.type_bigint() if dbt is defined else 'bigint' -%}
    {%- set digits = [] -%}
    {%- for k in range(8) -%}
        {%- do digits.append(
            'cast(position(substr(' ~ digest ~ ', ' ~ (k + 1) ~ ", 1) in '0123456789abcdef') - 1 as "
            ~ bigint ~ ') * ' ~ (16 ** (7 - k))
        ) -%}
    {%- endfor -%}
    mod({{ digits | join(' + ') }}, 10000)
{%- endmacro %}

{#- True when the learner is in the coaching holdout (var coaching_holdout_share, in [0, 1)). -#}
{% macro in_coaching_holdout(learner_id) -%}
    {%- set share = var('coaching_holdout_share') | float -%}
    {%- if share < 0 or share >= 1 -%}
        {{ exceptions.raise_compiler_error("var coaching_holdout_share must be in [0, 1), got " ~ share) }}
    {%- endif -%}
    ({{ coaching_holdout_bucket(learner_id) }} < {{ (share * 10000) | round | int }})
{%- endmacro %}
