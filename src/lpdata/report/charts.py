"""The readouts' charts, as Altair (Vega-Lite) specifications; vega-embed draws them in the page.

Each function takes a DataFrame with the columns it names and returns a chart; `spec` turns it
into the JSON the page embeds.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

VERDICTS = ["significant increase", "significant decrease", "not significant"]
VERDICT_COLOURS = ["#1a7f37", "#cf222e", "#6e7781"]
WIDTH = 560


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite specification, data inlined (validated against Altair's schema)."""
    return chart.to_dict()


def _only(df: pd.DataFrame, *fields) -> pd.DataFrame:
    """The columns of df a chart encodes (names, "name:type" shorthands or tooltips), so that the
    page embeds no other data."""
    names = []
    for f in fields:
        name = getattr(f, "shorthand", f)
        if isinstance(name, str):
            names.append(name.split(":")[0])
    return df[[c for c in dict.fromkeys(names) if c in df.columns]]


def tip(column: str, fmt: str = "+.1%") -> alt.Tooltip:
    """A tooltip line for a numeric column (a signed percentage by default)."""
    return alt.Tooltip(f"{column}:Q", format=fmt)


def _verdict_colour(title: str = "verdict") -> alt.Color:
    return alt.Color("verdict:N", title=title, scale=alt.Scale(domain=VERDICTS, range=VERDICT_COLOURS))


def _zero_rule() -> alt.Chart:
    return alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(x=alt.datum(0))


def forest(
    df: pd.DataFrame,
    *,
    label: str,
    estimate: str,
    low: str,
    high: str,
    axis_title: str,
    tooltip: list[str],
    wide: tuple[str, str] | None = None,
    row: str | None = None,
    axis_format: str = "+.0%",
) -> alt.FacetChart | alt.LayerChart:
    """Forest plot: one line per row of df, the estimate as a dot on its interval, coloured by the
    column `verdict`; `wide` (low, high) draws a second, wider interval behind (the always-valid one);
    `row` facets into one panel per value."""
    y = alt.Y(f"{label}:N", title=None, sort=None)
    x = alt.X(f"{low}:Q", title=axis_title, axis=alt.Axis(format=axis_format))
    layers = []
    if wide is not None:
        wide_x = alt.X(f"{wide[0]}:Q", title=axis_title, axis=alt.Axis(format=axis_format))
        layers.append(
            alt.Chart().mark_rule(strokeWidth=9, opacity=0.22, color="#0969da").encode(y=y, x=wide_x, x2=f"{wide[1]}:Q")
        )
    layers += [
        alt.Chart().mark_rule(strokeWidth=2.5).encode(y=y, x=x, x2=f"{high}:Q", color=_verdict_colour()),
        alt.Chart().mark_point(filled=True, size=90, opacity=1).encode(
            y=y, x=f"{estimate}:Q", color=_verdict_colour(), tooltip=tooltip
        ),
        _zero_rule(),
    ]
    data = _only(df, label, estimate, low, high, "verdict", row, *(wide or ()), *tooltip)
    chart = alt.layer(*layers, data=data).properties(width=WIDTH, height=alt.Step(30))
    if row is not None:
        chart = chart.facet(row=alt.Row(f"{row}:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")))
    return chart


def variance_reduction(df: pd.DataFrame, *, label: str, colour: str | None) -> alt.Chart:
    """Bars of the share of variance CUPED removes, per line of df."""
    encoding = {
        "y": alt.Y(f"{label}:N", title=None, sort=None),
        "x": alt.X("variance_reduction:Q", title="variance removed by CUPED", axis=alt.Axis(format=".0%"),
                   scale=alt.Scale(domain=[0, 1])),
        "tooltip": [label, alt.Tooltip("variance_reduction:Q", format=".1%")],
    }
    if colour:
        encoding["yOffset"] = alt.YOffset(f"{colour}:N")
        encoding["color"] = alt.Color(f"{colour}:N", title="variant")
    return alt.Chart(_only(df, label, colour, "variance_reduction")).mark_bar(color="#0969da").encode(**encoding).properties(width=WIDTH, height=alt.Step(30))


def interval_over_time(
    df: pd.DataFrame, *, date: str, estimate: str, low: str, high: str, panel: str, colour: str, axis_title: str
) -> alt.FacetChart:
    """Interval band and estimate line over time, one panel per value of `panel`."""
    x = alt.X(f"{date}:T", title=None, axis=alt.Axis(format="%d %b"))
    band = alt.Chart().mark_area(opacity=0.25).encode(
        x=x,
        y=alt.Y(f"{low}:Q", title=axis_title, axis=alt.Axis(format="+.0%")),
        y2=f"{high}:Q",
        color=alt.Color(f"{colour}:N", title="variant"),
    )
    line = alt.Chart().mark_line(point=True).encode(
        x=x,
        y=f"{estimate}:Q",
        color=alt.Color(f"{colour}:N", title="variant"),
        tooltip=[alt.Tooltip(f"{date}:T"), colour, alt.Tooltip(f"{estimate}:Q", format="+.1%"),
                 alt.Tooltip(f"{low}:Q", format="+.1%"), alt.Tooltip(f"{high}:Q", format="+.1%")],
    )
    zero = alt.Chart().mark_rule(color="#444", strokeDash=[4, 3]).encode(y=alt.datum(0))
    return (
        alt.layer(band, line, zero, data=_only(df, date, estimate, low, high, panel, colour))
        .properties(width=360, height=180)
        .facet(facet=alt.Facet(f"{panel}:N", title=None), columns=2)
        .resolve_scale(y="independent")
    )


def rates(df: pd.DataFrame, *, order: list[str], panels: list[str]) -> alt.FacetChart:
    """Each message's rates with their Wilson intervals, one panel per rate (columns message_key,
    message_type, rate_name, rate, ci_low, ci_high, successes, trials)."""
    y = alt.Y("message_key:N", title=None, sort=order)
    x = alt.X("ci_low:Q", title=None, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]))
    colour = alt.Color("message_type:N", title="message type")
    interval = alt.Chart().mark_rule(strokeWidth=2.5).encode(y=y, x=x, x2="ci_high:Q", color=colour)
    point = alt.Chart().mark_point(filled=True, size=70, opacity=1).encode(
        y=y,
        x="rate:Q",
        color=colour,
        tooltip=["message_key", "rate_name", alt.Tooltip("rate:Q", format=".1%"), alt.Tooltip("ci_low:Q", format=".1%"),
                 alt.Tooltip("ci_high:Q", format=".1%"), "successes", "trials"],
    )
    return (
        alt.layer(interval, point, data=_only(df, "message_key", "message_type", "rate_name", "rate", "ci_low", "ci_high",
                                              "successes", "trials"))
        .properties(width=230, height=alt.Step(22))
        .facet(column=alt.Column("rate_name:N", title=None, sort=panels))
    )


def weekly_rate(df: pd.DataFrame, *, rate: str, low: str, high: str, axis_title: str) -> alt.FacetChart:
    """A rate per message and week with its interval as a band, one small panel per message."""
    x = alt.X("week_start:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=-45))
    band = alt.Chart().mark_area(opacity=0.25, color="#0969da").encode(
        x=x, y=alt.Y(f"{low}:Q", title=axis_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])),
        y2=f"{high}:Q",
    )
    line = alt.Chart().mark_line(point=True, color="#0969da").encode(
        x=x, y=f"{rate}:Q",
        tooltip=[alt.Tooltip("week_start:T"), alt.Tooltip(f"{rate}:Q", format=".1%"), alt.Tooltip(f"{low}:Q", format=".1%"),
                 alt.Tooltip(f"{high}:Q", format=".1%")],
    )
    return (
        alt.layer(band, line, data=_only(df, "message_key", "week_start", rate, low, high))
        .properties(width=220, height=120)
        .facet(facet=alt.Facet("message_key:N", title=None), columns=4)
    )
