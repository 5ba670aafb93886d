"""The coaching readout: each message's rates with Wilson intervals, helpfulness by week, the lift
against the holdout once published, and the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from . import charts
from .marts import Marts, Needs
from .sections import Chart, Section, interval, number, pct, signed_pct, table

COACHING = Needs("coaching_message_performance", ("message_key", "message_type", "week_start", "n_sent", "n_viewed",
                                                  "n_clicked", "n_dismissed", "n_rated_helpful", "n_rated",
                                                  "helpfulness_rate", "helpfulness_ci_low", "helpfulness_ci_high"))
# each message's lift on the downstream outcome against the holdout: relative, with its 95% interval
HOLDOUT = Needs("coaching_message_performance", ("message_key", "lift", "lift_ci_low", "lift_ci_high"))
COACHING_KNOWN = set(COACHING.columns) | {"n_rated_unhelpful", "engagement_rate"}
PAUSE_MIN_RATINGS, PAUSE_UPPER_BOUND = 200, 0.3  # the send list's rule (int_coaching_message_feedback)


RATES = [
    # name, successes, trials
    ("viewed / sent", "n_viewed", "n_sent"),
    ("clicked / viewed", "n_clicked", "n_viewed"),
    ("dismissed / sent", "n_dismissed", "n_sent"),
    ("helpful / rated", "n_rated_helpful", "n_rated"),
]


def wilson(successes, trials) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95% intervals (statsmodels); nan where trials is 0."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(successes, np.where(trials > 0, trials, 1), alpha=0.05, method="wilson")
    return np.where(trials > 0, low, np.nan), np.where(trials > 0, high, np.nan)


def message_rates(weekly: pd.DataFrame) -> pd.DataFrame:
    """Each message's rates over all its weeks (counts summed), with Wilson 95% intervals; one row
    per message and rate."""
    counts = weekly.groupby(["message_key", "message_type"], as_index=False)[
        ["n_sent", "n_viewed", "n_clicked", "n_dismissed", "n_rated_helpful", "n_rated"]
    ].sum()
    frames = []
    for name, successes, trials in RATES:
        low, high = wilson(counts[successes], counts[trials])
        frames.append(pd.DataFrame({
            "message_key": counts["message_key"],
            "message_type": counts["message_type"],
            "rate_name": name,
            "successes": counts[successes].astype(int),
            "trials": counts[trials].astype(int),
            "rate": np.where(counts[trials] > 0, counts[successes] / counts[trials].where(counts[trials] > 0), np.nan),
            "ci_low": low,
            "ci_high": high,
        }))
    return pd.concat(frames, ignore_index=True)


def coaching_page(marts: Marts) -> dict | None:
    mart = marts.get(COACHING)
    if mart is None:
        return None
    weekly = marts.frame(mart, "select * from {relation} order by message_key, week_start")
    weekly["week_start"] = pd.to_datetime(weekly["week_start"])
    rates = message_rates(weekly)
    helpful = rates[rates["rate_name"] == "helpful / rated"].sort_values("rate", ascending=False)
    order = list(helpful["message_key"])
    sections: list[Section] = []
    text: list[str] = []
    if not helpful.empty:
        best, worst = helpful.iloc[0], helpful.dropna(subset=["rate"]).iloc[-1]
        text.append(
            f"Most helpful: {best.message_key}, {pct(best.rate)} of {best.trials:,} ratings helpful "
            f"(95% Wilson interval {interval(best.ci_low, best.ci_high, pct)}). Least helpful: {worst.message_key}, "
            f"{pct(worst.rate)} of {worst.trials:,} (95% Wilson interval {interval(worst.ci_low, worst.ci_high, pct)})."
        )
        for r in helpful.itertuples():
            if r.trials >= PAUSE_MIN_RATINGS and r.ci_high < PAUSE_UPPER_BOUND:
                text.append(
                    f"{r.message_key} is paused for everyone: the upper bound of its helpfulness ({pct(r.ci_high)}) is "
                    f"below {PAUSE_UPPER_BOUND:.0%} after {r.trials:,} ratings (the send list's rule: at least "
                    f"{PAUSE_MIN_RATINGS} ratings and a Wilson upper bound below {PAUSE_UPPER_BOUND:.0%})."
                )
    overview = Section("Message rates")
    overview.charts.append(Chart(
        "rates", "Each message's rates over all weeks, with 95% Wilson intervals",
        "Counts summed over every week the message was sent; a message viewed or rated twice counts once. "
        "Messages sorted by helpfulness.",
        charts.spec(charts.rates(rates, order=order, panels=[name for name, _, _ in RATES])),
    ))
    sections.append(overview)
    trend = Section("Helpfulness by week")
    trend.charts.append(Chart(
        "weekly", "Helpfulness of the messages sent each week, with its 95% Wilson interval",
        "From coaching_message_performance as published (its helpfulness_ci_low and helpfulness_ci_high).",
        charts.spec(charts.weekly_rate(weekly.dropna(subset=["helpfulness_rate"]), rate="helpfulness_rate",
                                       low="helpfulness_ci_low", high="helpfulness_ci_high", axis_title="helpful")),
    ))
    sections.append(trend)

    holdout = Section("Lift against the holdout")
    lift_mart = marts.get(HOLDOUT)
    if lift_mart is None:
        holdout.waiting_for = HOLDOUT.describe()
    else:
        lift = marts.frame(lift_mart, "select * from {relation} order by message_key")
        lift = lift.dropna(subset=["lift", "lift_ci_low", "lift_ci_high"])
        week = None
        if "week_start" in lift.columns and not lift.empty:
            # a lift per message and week, cumulative through the week: the latest week's is the lift so far
            week = lift["week_start"].max()
            lift = lift[lift["week_start"] == week]
        lift = lift.copy()
        lift["verdict"] = np.where(lift["lift_ci_low"] > 0, "significant increase",
                                   np.where(lift["lift_ci_high"] < 0, "significant decrease", "not significant"))
        lift = lift.sort_values("lift", ascending=False)
        if lift.empty:
            holdout.text.append("No message has a lift against the holdout yet.")
        else:
            helps = lift[lift["verdict"] == "significant increase"]["message_key"].tolist()
            holdout.text.append(
                "Learners sent a message against the holdout (learners who never get one)"
                + (f", messages sent up to the week of {week:%Y-%m-%d}. " if week is not None else ". ")
                + (f"Messages that help: {', '.join(helps)}." if helps else "No message helps significantly.")
            )
            holdout.charts.append(Chart(
                "holdout", "Relative lift of the downstream outcome against the holdout, with its 95% interval",
                "Green: the interval is above zero (the message helps); red: below zero; grey: no significant difference.",
                charts.spec(charts.forest(
                    lift, label="message_key", estimate="lift", low="lift_ci_low", high="lift_ci_high",
                    axis_title="lift against the holdout",
                    tooltip=["message_key", charts.tip("lift"), charts.tip("lift_ci_low"), charts.tip("lift_ci_high")],
                )),
            ))
            holdout.tables.append(table("Lift against the holdout", lift, [
                ("message", "message_key", None),
                ("lift", "lift", signed_pct),
                ("95% CI", lambda r: interval(r["lift_ci_low"], r["lift_ci_high"]), str),
            ], [c for c in lift_mart.columns if c not in COACHING_KNOWN | set(HOLDOUT.columns) and c in lift.columns]))
    sections.append(holdout)

    numbers = Section("The numbers")
    wide = rates.pivot(index="message_key", columns="rate_name")
    rows = []
    for message in order:
        r = wide.loc[message]
        row = {"message_key": message, "message_type": rates.loc[rates.message_key == message, "message_type"].iloc[0],
               "n_sent": r[("trials", "viewed / sent")]}
        for name, _, _ in RATES:
            row[name] = r[("rate", name)]
            row[f"{name} CI"] = interval(r[("ci_low", name)], r[("ci_high", name)], pct)
        rows.append(row)
    numbers.tables.append(table("Rates over all weeks, with 95% Wilson intervals", pd.DataFrame(rows), [
        ("message", "message_key", None),
        ("type", "message_type", None),
        ("sent", "n_sent", number),
        *[(col, col, pct if not col.endswith("CI") else str) for name, _, _ in RATES for col in (name, f"{name} CI")],
    ]))
    sections.append(numbers)
    return {
        "title": "Coaching messages",
        "srm_warning": None,
        "headline": text[0] if text else "No message has been sent yet.",
        "sentences": text[1:],
        "facts": [
            ("messages", f"{weekly['message_key'].nunique():,}"),
            ("sent", f"{int(weekly['n_sent'].sum()):,}"),
            ("weeks", f"{weekly['week_start'].min():%Y-%m-%d} to {weekly['week_start'].max():%Y-%m-%d}"
             if not weekly.empty else "–"),
            ("read from", mart.relation),
        ],
        "sections": sections,
    }


