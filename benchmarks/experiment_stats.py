"""Benchmark: experiment_results computed in the database vs pulling learner rows into pandas + scipy.

In the database: the compiled SQL of `int_experiment_variant_statistics` (sufficient statistics)
and `experiment_results` (every statistic), run as one query over `experiment_learner_metrics`.
In Python: `select *` of `experiment_learner_metrics` into pandas, then the reference
implementation `lpdata.experimentation.expected_results` (numpy, scipy.stats, statsmodels).
Prints the median wall times, their ratio, and the largest relative difference between the two.

Usage (after a build of the experimentation marts in the selected database):
    .venv/bin/python benchmarks/experiment_stats.py --repeat 5 --replicate 10
--replicate K stacks K copies of the learner rows (learner ids offset) in a temporary table to show
how both approaches scale without regenerating data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from lpdata import PROJECT_ROOT, db
from lpdata.dbt import run_dbt
from lpdata.experimentation import expected_results, learner_metrics_frame

COMPARED = [
    "mean_control", "mean_treatment", "var_control", "var_treatment", "absolute_effect", "absolute_ci_low",
    "absolute_ci_high", "relative_lift", "relative_ci_low", "relative_ci_high", "p_value", "p_value_adjusted",
    "cuped_absolute_effect", "cuped_ci_low", "cuped_ci_high", "cuped_p_value", "variance_reduction",
]


def _nodes(target_path: Path) -> dict[str, dict]:
    manifest = json.loads((target_path / "manifest.json").read_text())
    wanted = {"int_experiment_variant_statistics", "experiment_results", "experiment_learner_metrics"}
    found: dict[str, dict] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["name"] not in wanted:
            continue
        if node.get("version") not in (None, node.get("latest_version")):
            continue
        found[node["name"]] = node
    return found


def compiled_sql(env: dict[str, str], target: str) -> tuple[str, str]:
    """(in-database query from learner rows to results, relation of experiment_learner_metrics)."""
    target_path = PROJECT_ROOT / target
    nodes = _nodes(target_path) if (target_path / "manifest.json").exists() else {}
    if not all(nodes.get(n, {}).get("compiled_code") for n in ("int_experiment_variant_statistics", "experiment_results")):
        run_dbt(["compile", "--quiet", "-s", "int_experiment_variant_statistics", "experiment_results"], env, target_path=target)
        nodes = _nodes(target_path)
    stats_node, results_node, lm_node = (
        nodes["int_experiment_variant_statistics"], nodes["experiment_results"], nodes["experiment_learner_metrics"]
    )
    stats_relation = stats_node["relation_name"]
    inlined = f"(\n{stats_node['compiled_code']}\n) as int_experiment_variant_statistics"
    sql = results_node["compiled_code"].replace(stats_relation, inlined)
    if stats_relation in sql or inlined not in sql:
        raise RuntimeError("could not inline int_experiment_variant_statistics into experiment_results; rebuild and retry")
    # the statistics read the learner rows through the relation dbt resolved for the build
    lm_relation = next(r for r in [lm_node["relation_name"]] if r in stats_node["compiled_code"])
    return sql, lm_relation


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions of each approach (median reported)")
    parser.add_argument("--replicate", type=int, default=1, help="stack K copies of the learner rows (scale test)")
    parser.add_argument(
        "--target-path",
        default=os.environ.get("DBT_TARGET_PATH", "target"),
        help="dbt target path holding manifest.json (default $DBT_TARGET_PATH or target)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.replicate < 1:
        parser.error("--repeat and --replicate must be >= 1")

    env = db.pg_env()
    sql, relation = compiled_sql(env, args.target_path)
    with psycopg.connect(db.conninfo(env)) as conn:
        source = relation
        if args.replicate > 1:
            conn.execute(
                f"create temp table bench_learner_metrics as select m.experiment_key, m.metric_key, "
                f"m.learner_id + cast(copy as bigint) * 1000000000 as learner_id, m.variant_key, m.is_control, m.metric_type, m.value, "
                f"m.pre_value, m.numerator, m.denominator, m.pre_numerator, m.pre_denominator, m.assigned_at "
                f"from {relation} as m cross join generate_series(0, {args.replicate - 1}) as copy"
            )
            conn.execute("analyze bench_learner_metrics")
            source = "bench_learner_metrics"
        in_db_sql = sql.replace(relation, source)
        n_rows = conn.execute(f"select count(*) from {source}").fetchone()[0]

        def in_database() -> pd.DataFrame:
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            return pd.DataFrame(cur.execute(in_db_sql).fetchall())

        def in_pandas() -> pd.DataFrame:
            cur = conn.cursor(row_factory=psycopg.rows.dict_row)
            return expected_results(learner_metrics_frame(cur.execute(f"select * from {source}").fetchall()))

        in_database()  # warm caches for both
        t_db, db_results = timed(in_database, args.repeat)
        t_py, py_results = timed(in_pandas, args.repeat)

    merged = db_results.merge(py_results, on=["experiment_key", "metric_key", "variant_key"], suffixes=("", "_py"))
    if len(merged) != len(db_results) or len(merged) == 0:
        print("the two approaches returned different comparisons", file=sys.stderr)
        return 1
    max_rel, worst = 0.0, ""
    for col in COMPARED:
        a, b = merged[col].astype(float).to_numpy(), merged[f"{col}_py"].astype(float).to_numpy()
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
        if rel.max() > max_rel:
            max_rel, worst = float(rel.max()), col

    print(f"learner rows:               {n_rows:,} ({args.replicate} cop{'y' if args.replicate == 1 else 'ies'})")
    print(f"result rows:                {len(merged)}")
    print(f"in-database (median of {args.repeat}): {t_db * 1000:10.1f} ms")
    print(f"pandas + scipy (median):    {t_py * 1000:10.1f} ms  (includes pulling the rows)")
    print(f"time ratio pandas / db:     {t_py / t_db:10.1f} x")
    print(f"max relative difference:    {max_rel:10.3e}  ({worst})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
