"""An experiment's readout: its verdict in words (a sample-ratio mismatch first), the forest plot
of every metric's lift, CUPED's variance reduction, the always-valid interval over time and the
exploratory slices once published, and the numbers."""

from __future__ import annotations

import pandas as pd

from . import charts
from .marts import Marts, Needs
from .sections import Chart, Section, interval, number, p_value, pct, signed_pct, slug, table

ROLE_ORDER = {"primary": 0, "secondary": 1, "guardrail": 2}

HEALTH = Needs("experiment_health", ("experiment_key", "variant_key", "is_control", "planned_weight", "n_assigned",
                                     "n_contaminated", "n_expected", "srm_p_value", "has_srm"))
RESULTS = Needs("experiment_results", ("experiment_key", "metric_key", "metric_role", "variant_key", "control_variant_key",
                                       "relative_lift", "relative_ci_low", "relative_ci_high", "p_value_adjusted",
                                       "is_significant", "variance_reduction"))
LEARNERS = Needs("experiment_learner_metrics", ("experiment_key", "variant_key", "learner_id", "assigned_at"))
# the always-valid interval of each day, on the relative-lift scale of the forest plot
SEQUENTIAL = Needs("experiment_results_daily", ("experiment_key", "metric_key", "variant_key", "analysis_date",
                                                "relative_lift", "seq_ci_low", "seq_ci_high"))
# the latest always-valid interval beside the fixed-horizon one in the forest plot
SEQUENTIAL_FINAL = Needs("experiment_results", ("seq_ci_low", "seq_ci_high"))
SLICES = Needs("experiment_results_slices", ("experiment_key", "metric_key", "variant_key", "dimension", "dimension_value",
                                             "relative_lift", "relative_ci_low", "relative_ci_high", "p_value_adjusted",
                                             "is_significant"))

# the sequential chart starts where both arms have this many analysed learners (or a tenth of their
# final number): the first looks' intervals are wide enough to flatten every later day's
EARLY_LOOK_MIN_N = 100


def _from_first_readable_day(daily: pd.DataFrame) -> pd.DataFrame:
    """Each metric × variant series from the first day both arms reach the readable sample (all of
    it when the mart does not publish the arms' sizes)."""
    if not {"n_control", "n_treatment"} <= set(daily.columns):
        return daily
    smaller_arm = daily[["n_control", "n_treatment"]].min(axis=1)
    final_smaller_arm = smaller_arm.groupby([daily["metric_key"], daily["variant_key"]]).transform("max")
    threshold = (final_smaller_arm / 10).clip(upper=EARLY_LOOK_MIN_N)
    return daily[smaller_arm >= threshold]


# the columns of experiment_results v1 and experiment_health v1 the tables show or leave out on
# purpose; a column a later version adds is shown in the table as it is
RESULTS_KNOWN = {
    "experiment_key", "metric_key", "metric_role", "variant_key", "control_variant_key", "n_control", "n_treatment",
    "mean_control", "mean_treatment", "var_control", "var_treatment", "absolute_effect", "absolute_se",
    "absolute_ci_low", "absolute_ci_high", "relative_lift", "relative_se", "relative_ci_low", "relative_ci_high",
    "z_statistic", "p_value", "p_value_adjusted", "cuped_theta", "cuped_absolute_effect", "cuped_se", "cuped_ci_low",
    "cuped_ci_high", "cuped_p_value", "variance_reduction", "is_significant", "computed_at", "has_srm",
}
HEALTH_KNOWN = {"experiment_key", "variant_key", "is_control", "planned_weight", "n_assigned", "n_contaminated",
                "n_expected", "srm_chi2", "srm_p_value", "has_srm"}


def _verdict(row) -> str:
    if not row["is_significant"]:
        return "not significant"
    return "significant increase" if row["relative_lift"] > 0 else "significant decrease"


def _metric_label(row) -> str:
    return f"{row['metric_key']} ({row['metric_role']})"


def _results_frame(results: pd.DataFrame) -> pd.DataFrame:
    df = results.copy()
    df["verdict"] = df.apply(_verdict, axis=1)
    df["metric"] = df.apply(_metric_label, axis=1)
    df["_order"] = df["metric_role"].map(ROLE_ORDER).fillna(9)
    return df.sort_values(["variant_key", "_order", "metric_key"]).drop(columns="_order").reset_index(drop=True)


def _srm_warning(health: pd.DataFrame) -> str | None:
    if health.empty or not health["has_srm"].any():
        return None
    total = health["n_assigned"].sum()
    split = ", ".join(
        f"{r.variant_key} {r.n_assigned:,} ({r.n_assigned / total:.0%}; planned {r.planned_weight:.0%})"
        for r in health.itertuples()
    )
    return (
        f"Sample-ratio mismatch: the assignment counts differ from the plan (chi-square p = "
        f"{p_value(health['srm_p_value'].iloc[0])} < 0.001): {split}. The assignment is broken, so none of the "
        "results below can be trusted, whatever their significance. Find the cause before reading them."
    )


def _srm_status(health: pd.DataFrame) -> str:
    if health.empty:
        return "–"
    p = p_value(health["srm_p_value"].iloc[0])
    return f"MISMATCH (chi-square p = {p} < 0.001)" if health["has_srm"].any() else f"passed (chi-square p = {p})"


def _sentences(df: pd.DataFrame) -> list[str]:
    """One sentence per metric and treatment variant."""
    out = []
    for r in df.itertuples():
        verdict = {"significant increase": "significantly higher", "significant decrease": "significantly lower",
                   "not significant": "no significant difference"}[r.verdict]
        out.append(
            f"{r.variant_key} vs {r.control_variant_key}, {r.metric}: {pct(r.relative_lift, True)} "
            f"(95% CI {interval(r.relative_ci_low, r.relative_ci_high)}): {verdict} "
            f"(Benjamini-Hochberg adjusted p = {p_value(r.p_value_adjusted)})."
        )
    return out


def _headline(df: pd.DataFrame) -> str:
    significant = df[df["is_significant"]]
    if df.empty:
        return "No results yet: no learner's 14-day window has ended."
    if significant.empty:
        return f"No metric differs significantly from the control ({len(df)} comparisons, BH-adjusted at 5%)."
    parts = [f"{r.metric_key} {pct(r.relative_lift, True)} ({r.variant_key})" for r in significant.itertuples()]
    return f"{len(significant)} of {len(df)} comparisons differ significantly from the control: {', '.join(parts)}."


def experiment_page(
    key: str, marts: Marts, health: pd.DataFrame, results: pd.DataFrame, learners: dict[str, dict]
) -> dict:
    results_mart, health_mart = marts.get(RESULTS), marts.get(HEALTH)
    df = _results_frame(results)
    several = df["variant_key"].nunique() > 1
    tooltip = ["variant_key", "metric", charts.tip("relative_lift"), charts.tip("relative_ci_low"), charts.tip("relative_ci_high"),
               charts.tip("p_value_adjusted", ".3g"), "verdict"]
    sections: list[Section] = []

    # forest plot of every metric's lift
    seq_final = marts.get(SEQUENTIAL_FINAL) is not None
    forest = Section("Lift of every metric")
    if not df.empty:
        forest.charts.append(Chart(
            "forest", "Relative lift against the control, with its 95% interval",
            "A dot is the relative lift (treatment / control − 1); its line the 95% interval. Green: significantly "
            "higher, red: significantly lower, grey: no significant difference (Benjamini-Hochberg adjusted p < 0.05)."
            + (" The wide pale band is the always-valid (sequential) interval, safe to read every day." if seq_final else ""),
            charts.spec(charts.forest(
                df, label="metric", estimate="relative_lift", low="relative_ci_low", high="relative_ci_high",
                axis_title="relative lift", tooltip=tooltip, wide=("seq_ci_low", "seq_ci_high") if seq_final else None,
                row="variant_key" if several else None,
            )),
        ))
    sections.append(forest)

    # CUPED
    cuped = Section("CUPED variance reduction")
    if not df.empty:
        cuped.charts.append(Chart(
            "cuped", "Share of each metric's variance that CUPED removes",
            "CUPED adjusts each learner's value by the same metric in the 14 days before assignment; the more of the "
            "variance it removes, the narrower the adjusted interval (in the table below).",
            charts.spec(charts.variance_reduction(df, label="metric", colour="variant_key" if several else None)),
        ))
    sections.append(cuped)

    # the always-valid interval over time
    daily_mart = marts.get(SEQUENTIAL)
    sequential = Section("Sequential (always-valid) interval over time")
    if daily_mart is None:
        sequential.waiting_for = SEQUENTIAL.describe()
    else:
        daily = marts.frame(daily_mart, "select * from {relation} where experiment_key = %s order by analysis_date", (key,))
        if daily.empty:
            sequential.text.append("No daily results for this experiment yet.")
        else:
            daily["analysis_date"] = pd.to_datetime(daily["analysis_date"])
            daily["metric"] = daily["metric_key"].map(dict(zip(df["metric_key"], df["metric"]))).fillna(daily["metric_key"])
            daily = _from_first_readable_day(daily)
            sequential.charts.append(Chart(
                "sequential", "Relative lift by day with its always-valid 95% interval",
                "The interval holds at every look at once, so reading it every day does not inflate false positives: "
                "a difference is significant on the first day the band leaves zero. Each line starts on the first day "
                f"both arms have {EARLY_LOOK_MIN_N} analysed learners (or a tenth of their final number, when smaller): "
                "before that the interval is too wide to read and would flatten the scale.",
                charts.spec(charts.interval_over_time(
                    daily, date="analysis_date", estimate="relative_lift", low="seq_ci_low", high="seq_ci_high",
                    panel="metric", colour="variant_key", axis_title="relative lift",
                )),
            ))
    sections.append(sequential)

    # dimension slices (exploratory)
    slices_mart = marts.get(SLICES)
    if slices_mart is not None:
        slices = marts.frame(slices_mart, "select * from {relation} where experiment_key = %s", (key,))
        section = Section("Slices by dimension (exploratory)")
        if slices.empty:
            section.text.append("No slice results for this experiment.")
        else:
            slices = slices.merge(df[["metric_key", "metric_role"]].drop_duplicates(), on="metric_key", how="left")
            slices["metric_role"] = slices["metric_role"].fillna("")
            slices["verdict"] = slices.apply(_verdict, axis=1)
            slices["metric"] = slices["metric_key"] + " · " + slices["dimension_value"].astype(str)
            if several:
                slices["metric"] += " · " + slices["variant_key"]
            slices = slices.sort_values(["dimension", "metric_key", "dimension_value", "variant_key"])
            section.text.append(
                "Exploratory: results per pre-registered dimension, with Benjamini-Hochberg adjustment across the "
                "slices. Use them to form hypotheses for a new experiment, not to ship a change."
            )
            section.charts.append(Chart(
                "slices", "Relative lift per slice with its 95% interval", "",
                charts.spec(charts.forest(
                    slices, label="metric", estimate="relative_lift", low="relative_ci_low", high="relative_ci_high",
                    axis_title="relative lift", tooltip=["dimension", "dimension_value", *tooltip], row="dimension",
                )),
            ))
        sections.append(section)

    # the numbers
    numbers = Section("The numbers")
    if not df.empty:
        extra = [c for c in results_mart.columns if c not in RESULTS_KNOWN and c in df.columns]
        numbers.tables.append(table("Results per metric and treatment variant", df, [
            ("metric", "metric", None),
            ("variant", "variant_key", None),
            ("n control", "n_control", number),
            ("n treatment", "n_treatment", number),
            ("control", "mean_control", number),
            ("treatment", "mean_treatment", number),
            ("lift", "relative_lift", signed_pct),
            ("95% CI", lambda r: interval(r["relative_ci_low"], r["relative_ci_high"]), str),
            ("p", "p_value", p_value),
            ("BH-adjusted p", "p_value_adjusted", p_value),
            ("significant", "is_significant", number),
            ("CUPED effect", "cuped_absolute_effect", number),
            ("CUPED 95% CI", lambda r: interval(r["cuped_ci_low"], r["cuped_ci_high"], number), str),
            ("variance removed", "variance_reduction", pct),
        ], extra))
    hextra = [c for c in health_mart.columns if c not in HEALTH_KNOWN and c in health.columns]
    numbers.tables.append(table("Assignment and sample-ratio check", health, [
        ("variant", "variant_key", None),
        ("control", "is_control", number),
        ("planned share", "planned_weight", pct),
        ("assigned", "n_assigned", number),
        ("expected", "n_expected", number),
        ("contaminated (excluded)", "n_contaminated", number),
        ("learners analysed", lambda r: learners.get(r["variant_key"], {}).get("n_learners"), number),
    ], hextra))
    sections.append(numbers)

    periods = list(learners.values())
    period = None
    if periods:
        first = min(p["first_assigned_at"] for p in periods)
        last = max(p["last_assigned_at"] for p in periods)
        period = f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
    n_analysed = sum(p["n_learners"] for p in periods)
    return {
        "key": key,
        "title": f"Experiment {key}",
        "srm_warning": _srm_warning(health),
        "headline": _headline(df),
        "sentences": _sentences(df),
        "facts": [
            ("control", ", ".join(health.loc[health["is_control"], "variant_key"]) or "–"),
            ("treatments", ", ".join(health.loc[~health["is_control"], "variant_key"]) or "–"),
            ("sample-ratio check", _srm_status(health)),
            ("assigned (clean)", f"{int(health['n_assigned'].sum()):,}"),
            ("analysed (14-day window ended)", f"{n_analysed:,}"),
            ("assigned between", period or "–"),
            ("results computed at", number(df["computed_at"].max()) if "computed_at" in df and not df.empty else "–"),
            ("read from", f"{results_mart.relation}, {health_mart.relation}"),
        ],
        "sections": sections,
        "summary": {
            "has_srm": bool(health["has_srm"].any()) if not health.empty else False,
            "n_significant": int(df["is_significant"].sum()),
            "n_results": len(df),
            "headline": _headline(df),
        },
    }


def _learners(marts: Marts) -> dict[str, dict[str, dict]]:
    """Learners analysed (their 14-day window ended) and the assignment period, per experiment and variant."""
    mart = marts.get(LEARNERS)
    if mart is None:
        return {}
    rows = marts.frame(
        mart,
        "select experiment_key, variant_key, count(distinct learner_id) as n_learners, "
        "min(assigned_at) as first_assigned_at, max(assigned_at) as last_assigned_at "
        "from {relation} group by experiment_key, variant_key",
    )
    out: dict[str, dict[str, dict]] = {}
    for r in rows.to_dict("records"):
        out.setdefault(r["experiment_key"], {})[r["variant_key"]] = r
    return out


def experiment_pages(marts: Marts) -> tuple[list[dict], list[str]]:
    """A page per experiment of experiment_health and experiment_results (each page's `file` set),
    and what is missing when either mart is not published."""
    missing = [n.describe() for n in (RESULTS, HEALTH) if marts.get(n) is None]
    if missing:
        return [], missing
    results = marts.frame(marts.get(RESULTS), "select * from {relation}")
    health = marts.frame(marts.get(HEALTH), "select * from {relation} order by experiment_key, is_control desc, variant_key")
    learners = _learners(marts)
    pages = []
    for key in sorted(set(health["experiment_key"]) | set(results["experiment_key"])):
        page = experiment_page(
            key,
            marts,
            health[health["experiment_key"] == key].reset_index(drop=True),
            results[results["experiment_key"] == key].reset_index(drop=True),
            learners.get(key, {}),
        )
        page["file"] = f"experiment-{slug(key)}.html"
        pages.append(page)
    return pages, []
