"""What the pages are made of: formatted numbers, tables, charts and sections, for the templates."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def pct(value, signed: bool = False, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    text = f"{value * 100:{'+' if signed else ''}.{digits}f}%"
    return text.replace("-", "−")


def p_value(value) -> str:
    if _missing(value):
        return "–"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def number(value) -> str:
    """Any cell: counts with thousands separators, floats to 4 significant digits."""
    if _missing(value):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:,.4g}".replace("-", "−")
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def signed_pct(value) -> str:
    return pct(value, signed=True)


def interval(low, high, fmt=signed_pct) -> str:
    if _missing(low) or _missing(high):
        return "–"
    return f"{fmt(low)} to {fmt(high)}"


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]


def table(title: str, df: pd.DataFrame, columns: list[tuple[str, str, object]], extra: list[str] = ()) -> Table:
    """columns: (header, column or callable(row), formatter); extra: further columns shown as they are."""
    headers = [h for h, _, _ in columns] + list(extra)
    rows, numeric = [], [fmt is not None for _, _, fmt in columns] + [True] * len(extra)
    for _, r in df.iterrows():
        cells = []
        for _, col, fmt in columns:
            value = col(r) if callable(col) else r[col]
            cells.append(fmt(value) if fmt else number(value))
        cells += [number(r[c]) for c in extra]
        rows.append(cells)
    return Table(title, headers, rows, numeric)


def slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "experiment"


# --- sections ---------------------------------------------------------------------------------


@dataclass
class Chart:
    id: str
    title: str
    caption: str
    spec: dict


@dataclass
class Section:
    title: str
    charts: list[Chart] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    waiting_for: str | None = None  # the mart / columns it appears with, while they are not published

