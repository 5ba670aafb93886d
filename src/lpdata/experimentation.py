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


def apply_caps(learner_metrics: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    """Learner rows with each metric's outlier cap of the analysis plan applied, as
    int_experiment_learner_metrics_capped does: the cap is the plan's cap_value quantile (linear
    interpolation, as percentile_cont) of the numerators of every arm of the experiment pooled
    (cap_type percentile) or cap_value (absolute); numerator and pre_numerator are capped at it."""
    df = learner_metrics.copy()
    if "cap_type" not in plans:
        return df
    for plan in plans[plans.cap_type.notna()].to_dict("records"):
        rows = (df.experiment_key == plan["experiment_key"]) & (df.metric_key == plan["metric_key"])
        if not rows.any():
            continue
        if plan["cap_type"] == "percentile":
            threshold = float(np.quantile(df.loc[rows, "numerator"].to_numpy(), plan["cap_value"]))
        else:
            threshold = float(plan["cap_value"])
        df.loc[rows, "numerator"] = np.minimum(df.loc[rows, "numerator"], threshold)
        df.loc[rows, "pre_numerator"] = np.minimum(df.loc[rows, "pre_numerator"], threshold)
        df.loc[rows, "value"] = df.loc[rows, "numerator"] / df.loc[rows, "denominator"]
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


def sequential_rho_squared(alpha: float, tuning: float) -> float:
    """rho^2 of the two-sided asymptotic confidence sequence tuned for `tuning` units
    (Waudby-Smith et al., arXiv 2103.06476, eq. 161; GrowthBook's `sequential_rho`)."""
    return (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning


def sequential_halfwidth(se, n, alpha: float = 0.05, tuning: float = 5000):
    """Half-width of the always-valid interval of an estimate with standard error `se` from `n`
    units in all (eq. 9 of the paper, as GrowthBook's `sequential_interval_halfwidth` with
    s2 = se^2 n)."""
    rho2 = sequential_rho_squared(alpha, tuning)
    s2 = np.square(se) * n
    return np.sqrt(s2) * np.sqrt(2 * (n * rho2 + 1) * np.log(np.sqrt(n * rho2 + 1) / alpha) / np.square(n * np.sqrt(rho2)))


def _interval(estimate: float, se: float, z: float) -> tuple[float, float]:
    return estimate - z * se, estimate + z * se


def compare_arms(treatment: pd.DataFrame, control: pd.DataFrame, alpha: float = 0.05, tuning: float = 5000) -> dict:
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
    seq = sequential_halfwidth(lift_se, t["n"] + c["n"], alpha, tuning)
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
        "absolute_se": se,
        "relative_se": lift_se,
        "seq_ci_low": lift - seq,
        "seq_ci_high": lift + seq,
        "seq_is_significant": bool(lift - seq > 0 or lift + seq < 0),
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


def analysis_dates(learner_metrics: pd.DataFrame, window_days: int = 14) -> pd.Series:
    """The date (UTC) at whose end each learner row counts: the day its metric window ends."""
    ends = pd.to_datetime(learner_metrics["assigned_at"], utc=True) + pd.Timedelta(days=window_days)
    return ends.dt.tz_convert("UTC").dt.date


def expected_results_daily(learner_metrics: pd.DataFrame, window_days: int = 14, alpha: float = 0.05,
                           tuning: float = 5000) -> pd.DataFrame:
    """experiment_results_daily recomputed: for every date on which an arm of a metric gained
    learners, the comparison of the learners whose window had ended by the end of that date."""
    df = learner_metrics.assign(analysis_date=analysis_dates(learner_metrics, window_days))
    out = []
    for (experiment, metric), rows in df.groupby(["experiment_key", "metric_key"], sort=True):
        for day in sorted(rows.analysis_date.unique()):
            upto = rows[rows.analysis_date <= day]
            control = upto[upto.is_control]
            if control.empty:
                continue
            for variant, treated in upto[~upto.is_control].groupby("variant_key", sort=True):
                r = compare_arms(treated, control, alpha, tuning)
                out.append({"experiment_key": experiment, "metric_key": metric, "variant_key": variant,
                            "analysis_date": day, **r})
    # a lift against a control mean of 0 (the first days of a rare metric) is undefined: null in SQL
    return pd.DataFrame(out).replace([np.inf, -np.inf], np.nan)


def expected_power(learner_metrics: pd.DataFrame, plans: pd.DataFrame, alpha: float = 0.05,
                   power: float = 0.8) -> pd.DataFrame:
    """The power columns of experiment_health v2 recomputed for the treatment variants: the minimum
    detectable relative lift of the experiment's primary metric (the first by key) at the current
    sample, (z(1 - alpha/2) + z(power)) se / |control mean|, and the days of enrolment at the
    current rate (analysed learners per day between their first and last assignment) until it
    reaches the plan's target_lift. `plans` has experiment_key, metric_key, metric_role and, where
    planned, alpha, power and target_lift."""
    out = []
    primary = plans[plans.metric_role == "primary"].sort_values(["experiment_key", "metric_key"]).groupby("experiment_key").head(1)
    for plan in primary.to_dict("records"):
        a = plan.get("alpha") if pd.notna(plan.get("alpha", np.nan)) else alpha
        pw = plan.get("power") if pd.notna(plan.get("power", np.nan)) else power
        target = plan.get("target_lift", np.nan)
        rows = learner_metrics[(learner_metrics.experiment_key == plan["experiment_key"])
                               & (learner_metrics.metric_key == plan["metric_key"])]
        control = rows[rows.is_control]
        for variant, treated in rows[~rows.is_control].groupby("variant_key", sort=True):
            r = compare_arms(treated, control)
            mde = (stats.norm.ppf(1 - a / 2) + stats.norm.ppf(pw)) * r["absolute_se"] / abs(r["mean_control"])
            assigned = pd.to_datetime(treated.assigned_at, utc=True)
            span_days = (assigned.max() - assigned.min()).total_seconds() / 86400
            rate = len(treated) / span_days if span_days > 0 else np.nan
            if pd.isna(target) or target == 0:
                days = np.nan
            elif mde <= abs(target):
                days = 0.0
            else:
                days = ((mde / abs(target)) ** 2 - 1) * len(treated) / rate
            out.append({"experiment_key": plan["experiment_key"], "variant_key": variant,
                        "primary_metric_key": plan["metric_key"], "mde_relative": mde,
                        "daily_enrolments": rate, "days_to_planned_power": days})
    return pd.DataFrame(out)


def expected_slices(learner_metrics: pd.DataFrame, dimensions: pd.DataFrame) -> pd.DataFrame:
    """experiment_results_slices recomputed: per dimension (columns of `dimensions` besides
    experiment_key and learner_id) and value, each treatment against the control on that slice's
    learners; Benjamini-Hochberg across every slice of an experiment and variant (non-null p)."""
    keyed = learner_metrics.merge(dimensions, on=["experiment_key", "learner_id"])
    out = []
    for dimension in [c for c in dimensions.columns if c not in ("experiment_key", "learner_id")]:
        for (experiment, metric, value), rows in keyed.groupby(["experiment_key", "metric_key", dimension], sort=True):
            control = rows[rows.is_control]
            if control.empty:
                continue
            for variant, treated in rows[~rows.is_control].groupby("variant_key", sort=True):
                with np.errstate(all="ignore"):
                    r = compare_arms(treated, control)
                out.append({"experiment_key": experiment, "metric_key": metric, "variant_key": variant,
                            "dimension": dimension, "dimension_value": value, **r})
    df = pd.DataFrame(out).replace([np.inf, -np.inf], np.nan)
    df["p_value_adjusted"] = np.nan
    for _, idx in df.groupby(["experiment_key", "variant_key"]).groups.items():
        p = df.loc[idx, "p_value"]
        tested = p.dropna().index
        if len(tested):
            df.loc[tested, "p_value_adjusted"] = multipletests(p.loc[tested].to_numpy(), method="fdr_bh")[1]
    df["is_significant"] = df.p_value_adjusted < 0.05
    return df
