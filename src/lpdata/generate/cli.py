"""The generator's command line: ``python -m lpdata.generate`` and ``lp generate``.

Examples::

    python -m lpdata.generate --learners 10000 --seed 42 --anchor 2025-06-01
    python -m lpdata.generate --learners 3000 --courses 12      # a small catalogue
    python -m lpdata.generate --append-days 1
"""

from __future__ import annotations

import argparse
import time

import psycopg

from .. import db
from ..cliargs import Parser, iso_date, positive_int


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The generator's options, for this entry point and for ``lp generate``."""
    parser.add_argument("--learners", type=positive_int, default=10_000,
                        help="number of learners; every other volume scales with it (default: 10000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed; same seed and anchor give identical tables (default: 42)")
    parser.add_argument("--anchor", type=iso_date, default=None,
                        help="UTC date the history ends at, YYYY-MM-DD (default: today)")
    parser.add_argument("--courses", type=positive_int, default=None,
                        help="number of courses (default: 40 up to 10k learners, then learners/250, at most 400)")
    parser.add_argument("--append-days", type=positive_int, default=None, metavar="K",
                        help="instead of regenerating, append K days of activity after max(raw.events.received_at)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    return parser


def run(args: argparse.Namespace, env: dict[str, str]) -> dict[str, int]:
    """Generate (or append), print row counts and throughput, return the counts."""
    from . import append_days, generate

    started = time.perf_counter()
    if args.append_days:
        counts = append_days(env, days=args.append_days, seed=args.seed, progress=args.progress)
    else:
        db.ensure_database(env)
        counts = generate(env, learners=args.learners, seed=args.seed, anchor=args.anchor, progress=args.progress,
                          courses=args.courses)
    elapsed = time.perf_counter() - started
    rows = sum(v for k, v in counts.items() if k != "learners_deleted")
    width = max(map(len, counts))
    for name, n in counts.items():
        print(f"{name:<{width}}  {n:>12,}")
    print(f"{'total':<{width}}  {rows:>12,}")
    print(f"{elapsed:.1f} s, {rows / elapsed:,.0f} rows/s ({counts.get('events', 0) / elapsed:,.0f} events/s)")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = add_arguments(Parser(prog="python -m lpdata.generate", description=__doc__.splitlines()[0],
                                                   formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    try:
        run(args, db.pg_env())
    except psycopg.OperationalError as exc:
        parser.exit(1, f"error: {db.connection_failure(exc)}\n")
    return 0
