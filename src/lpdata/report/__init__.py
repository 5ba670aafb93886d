"""`lp report`: the readouts, static pages that open from disk without network.

One page per experiment (verdict in words with a sample-ratio mismatch first, forest plot of every
metric's lift with its 95% interval, CUPED variance reduction, the always-valid interval over time
once published, the numbers), one coaching page (message rates with Wilson intervals, the lift
against the holdout once published) and an index linking them with the dbt docs site and the Great
Expectations Data Docs. Written to artifacts/report/ by `lp report` and by the main job (`lp run`).
"""

from __future__ import annotations

import argparse

from .. import db
from .site import REPORT_DIR, build

__all__ = ["REPORT_DIR", "add_parser", "build"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="write the readouts (a page per experiment, a coaching page, an index) to artifacts/report/",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default=str(REPORT_DIR), help=f"folder to write (replaced whole; default {REPORT_DIR})")
    p.add_argument(
        "--target-path",
        help="dbt target folder whose manifest.json names the marts and which holds the docs site "
        "(default target/, or $DBT_TARGET_PATH; parsed when it has no manifest)",
    )
    p.set_defaults(fn=_report)


def _report(args: argparse.Namespace) -> int:
    env = db.pg_env()
    db.ensure_database(env)
    index = build(env, target_path=args.target_path, out_dir=args.out)
    print(f"Readouts: {index}")
    return 0
