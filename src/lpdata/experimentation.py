"""The experimentation statistics recomputed in pandas + scipy, and the SQL macros rendered in Python.

This is the independent reference the pytest suite and `benchmarks/experiment_stats.py` compare the
in-database `experiment_results` with. It works from learner rows (one per experiment × metric ×
learner, as in the `experiment_learner_metrics` mart), by linearising each learner's value and
demeaning (the same estimands as the SQL, a different computation).

Every metric is a ratio of per-learner sums: numerator / denominator (denominator = 1 for mean and
proportion metrics), with pre-window numerator / denominator as the CUPED covariate.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from . import PROJECT_ROOT

STATISTICS_MACROS = PROJECT_ROOT / "macros" / "statistics"
KEYS = ["experiment_key", "metric_key", "variant_key"]
FLOAT_COLUMNS = ["value", "pre_value", "numerator", "denominator", "pre_numerator", "pre_denominator"]


def render_statistics_macros() -> SimpleNamespace:
    """The macros of macros/statistics/*.sql as Python callables returning SQL text.

    Rendered with plain Jinja (the macros use nothing dbt-specific but `exceptions`), so the exact
    macro source can run on any server without parsing the whole dbt project.
    """
    import jinja2

    class _Exceptions:
        @staticmethod
        def raise_compiler_error(message: str):
            raise ValueError(message)

    source = "\n".join(p.read_text() for p in sorted(STATISTICS_MACROS.glob("*.sql")))
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals["exceptions"] = _Exceptions()
    env.globals["execute"] = True  # as when dbt runs: the full expressions, not the parse-time stand-ins
    module = env.from_string(source).make_module()
    names = [n for n in dir(module) if not n.startswith("_")]
    return SimpleNamespace(**{n: (lambda m: lambda *a, **k: str(m(*a, **k)))(getattr(module, n)) for n in names})


def learner_metrics_frame(rows: list[dict]) -> pd.DataFrame:
    """experiment_learner_metrics rows as a DataFrame with float value columns."""
    df = pd.DataFrame(rows)
    for col in FLOAT_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    df["is_control"] = df["is_control"].astype(bool)
    return df


def _arm(rows: pd.DataFrame) -> dict:
    """Linearised per-learner values of the metric and of its pre-window covariate."""
    y, d = rows.numerator.to_numpy(), rows.denominator.to_numpy()
    x, e = rows.pre_numerator.to_numpy(), rows.pre_denominator.to_numpy()
    mean_d, mean_e = d.mean(), e.mean()
    ratio = y.sum() / d.sum()
    pre_ratio = x.sum() / e.sum() if e.sum() != 0 else np.nan
    lin = (y - ratio * d) / mean_d
    pre_lin = (x - pre_ratio * e) / mean_e if mean_e != 0 else np.full_like(x, np.nan)
    lin, pre_lin = lin - lin.mean(), pre_lin - pre_lin.mean()
    return {"n": len(rows), "mean": ratio, "pre_mean": pre_ratio, "lin": lin, "pre_lin": pre_lin, "var": lin.var(ddof=1)}


def _interval(estimate: float, se: float, z: float) -> tuple[float, float]:
    return estimate - z * se, estimate + z * se


def compare_arms(treatment: pd.DataFrame, control: pd.DataFrame) -> dict:
    """Welch z-test, relative lift (delta method) and CUPED of one treatment against the control."""
    z975 = stats.norm.ppf(0.975)
    t, c = _arm(treatment), _arm(control)
    effect = t["mean"] - c["mean"]
    se = np.sqrt(t["var"] / t["n"] + c["var"] / c["n"])
    z = effect / se
    lift = t["mean"] / c["mean"] - 1
    lift_se = np.sqrt(t["var"] / t["n"] / c["mean"] ** 2 + t["mean"] ** 2 * c["var"] / c["n"] / c["mean"] ** 4)
    # CUPED: theta pooled within the two arms; adjusted values lin - theta * pre_lin
    sp = np.sum(t["lin"] * t["pre_lin"]) + np.sum(c["lin"] * c["pre_lin"])
    ss_pre = np.sum(t["pre_lin"] ** 2) + np.sum(c["pre_lin"] ** 2)
    theta = sp / ss_pre
    adj_t, adj_c = t["lin"] - theta * t["pre_lin"], c["lin"] - theta * c["pre_lin"]
    cuped_effect = effect - theta * (t["pre_mean"] - c["pre_mean"])
    cuped_se = np.sqrt(adj_t.var(ddof=1) / t["n"] + adj_c.var(ddof=1) / c["n"])
    ss = (t["n"] - 1) * t["var"] + (c["n"] - 1) * c["var"]
    ss_adj = (t["n"] - 1) * adj_t.var(ddof=1) + (c["n"] - 1) * adj_c.var(ddof=1)
    low, high = _interval(effect, se, z975)
    rlow, rhigh = _interval(lift, lift_se, z975)
    clow, chigh = _interval(cuped_effect, cuped_se, z975)
    return {
        "n_control": c["n"],
        "n_treatment": t["n"],
        "mean_control": c["mean"],
        "mean_treatment": t["mean"],
        "var_control": c["var"],
        "var_treatment": t["var"],
        "absolute_effect": effect,
        "absolute_ci_low": low,
        "absolute_ci_high": high,
        "relative_lift": lift,
        "relative_ci_low": rlow,
        "relative_ci_high": rhigh,
        "p_value": 2 * stats.norm.sf(abs(z)),
        "cuped_absolute_effect": cuped_effect,
        "cuped_ci_low": clow,
        "cuped_ci_high": chigh,
        "cuped_p_value": 2 * stats.norm.sf(abs(cuped_effect / cuped_se)),
        "variance_reduction": 1 - ss_adj / ss,
    }


def expected_results(learner_metrics: pd.DataFrame) -> pd.DataFrame:
    """experiment_results recomputed from learner rows (pandas + scipy + statsmodels)."""
    out = []
    for (experiment, metric), rows in learner_metrics.groupby(["experiment_key", "metric_key"], sort=True):
        control = rows[rows.is_control]
        for variant, treated in rows[~rows.is_control].groupby("variant_key", sort=True):
            out.append({"experiment_key": experiment, "metric_key": metric, "variant_key": variant, **compare_arms(treated, control)})
    df = pd.DataFrame(out)
    df["p_value_adjusted"] = np.nan
    for _, idx in df.groupby(["experiment_key", "variant_key"]).groups.items():
        df.loc[idx, "p_value_adjusted"] = multipletests(df.loc[idx, "p_value"].to_numpy(), method="fdr_bh")[1]
    df["is_significant"] = df.p_value_adjusted < 0.05
    return df
