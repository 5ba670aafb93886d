"""Benchmark: a data scientist's loop on one experiment metric.

The loop the README's extending section documents: edit the metric's SQL (here a comment is
appended to models/intermediate/experimentation/metrics/metric_<key>.sql and removed afterwards),
run `dbt build -s metric_<key>+` (the metric, everything that reads it, their tests, publishing),
and read the metric's rows in experiment_results. Prints the seconds of the build and of the whole
loop, for each repeat, and the build's node count.

Usage, after `lp run` (10,000 learners by default) in the selected database:
    .venv/bin/python benchmarks/metric_loop.py [--metric enrollments] [--repeat 3]
The build takes the vars of the warehouse's last build (as `lp rebuild` does).
"""

from __future__ import annotations

import argparse
import statistics
import time

from lpdata import PROJECT_ROOT, db
from lpdata.dbt import read_artifact, run_dbt
from lpdata.job import with_vars
from lpdata.rebuild import last_build_vars

METRICS = PROJECT_ROOT / "models" / "intermediate" / "experimentation" / "metrics"


def one_loop(env: dict[str, str], metric: str, build_vars: dict, edit: int) -> tuple[float, float, int, int]:
    path = METRICS / f"metric_{metric}.sql"
    original = path.read_text()
    start = time.perf_counter()
    try:
        path.write_text(original + f"-- edit {edit}\n")
        run_dbt(with_vars(["build", "--select", f"metric_{metric}+"], build_vars), env, capture=True)
        built = time.perf_counter() - start
        with db.connect(env) as conn:
            rows = conn.execute(
                "select count(*) from experimentation.experiment_results where metric_key = %s", (metric,)
            ).fetchone()[0]
        loop = time.perf_counter() - start
    finally:
        path.write_text(original)
    nodes = len(read_artifact("run_results.json")["results"])
    return built, loop, rows, nodes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metric", default="enrollments", help="metric key (default: enrollments)")
    parser.add_argument("--repeat", type=int, default=3, help="loops to time (default: 3)")
    args = parser.parse_args()
    env = db.pg_env()
    build_vars = last_build_vars()
    with db.connect(env) as conn:
        learners = conn.execute("select count(*) from raw.learners").fetchone()[0]
    timings = []
    for i in range(1, args.repeat + 1):
        built, loop, rows, nodes = one_loop(env, args.metric, build_vars, i)
        timings.append(loop)
        print(f"loop {i}: dbt build -s metric_{args.metric}+ ({nodes} nodes) {built:.1f} s; "
              f"{rows} rows in experiment_results after {loop:.1f} s")
    print(f"metric loop at {learners:,} learners: median {statistics.median(timings):.1f} s (target <= 20 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
