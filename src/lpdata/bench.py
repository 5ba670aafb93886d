"""`lp bench`: generation, full build, incremental daily run, one scan of raw.events, the floor
and a per-learner lookup of the recommendation lists, as ratios measured in one run.

The floor is the same DAG built on a tiny warehouse (FLOOR_LEARNERS learners): dbt's fixed cost,
which no build at any scale goes below. A build's data work is its time minus its floor. Targets:
- data work ratio: (daily run - daily floor) / (full build - full floor) <= 10%;
- daily run over its floor: daily run / daily floor <= 3x (the target applies at 500,000+
  learners; printed at every scale);
- full data work in scans: (full build - full floor) / one sequential scan of raw.events <= 100;
- lookup of one learner's recommendation lists (recommendations.course_recommendations, as the
  consumers' role), 20 concurrent readers after the full build: p99 <= 10 ms.
Memory: peak resident memory of the generator and of each dbt build, and what PostgreSQL spilled
to temporary files during each build.
Small catalogue: the same full build on 3,000 learners and 12 courses, each model's share of it
against its share of the main full build, so a plan that only holds for one shape of the data
shows. Results go to artifacts/bench_<learners>.json (docs/benchmarks.md describes them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from . import PROJECT_ROOT, db
from .cliargs import iso_date, positive_int
from .dbt import dbt_failed, dbt_invocation, read_artifact, run_dbt

ARTIFACTS = PROJECT_ROOT / "artifacts"
# (daily run - daily floor) / (full build - full floor)
TARGET_DATA_WORK_RATIO = 0.10
# daily run / daily floor, at DAILY_OVER_FLOOR_FROM learners and more
TARGET_DAILY_OVER_FLOOR = 3.0
DAILY_OVER_FLOOR_FROM = 500_000
# (full build - full floor) / one sequential scan of raw.events
TARGET_DATA_WORK_SCANS = 100.0
# one learner's recommendation lists, LOOKUP_READERS concurrent readers for LOOKUP_SECONDS
TARGET_LOOKUP_P99_MS = 10.0
LOOKUP_READERS = 20
LOOKUP_SECONDS = 10.0
# the readers look up without pause (the machine's saturation: on few cores the queue for a core,
# not the index, sets the p99), then again each pausing this long between lookups (a service's
# pace: thousands of lookups a second, every one of them answered without queueing)
LOOKUP_PAUSE_MS = 5.0
LOOKUP_RELATION = "recommendations.course_recommendations"
# what a service reading one learner's lists asks (the columns of the published contract)
LOOKUP_SQL = (
    "select module, rank, course_id, score, algorithm, reason_course_id, generated_at "
    f"from {LOOKUP_RELATION} where learner_id = %s order by module, rank"
)
# the consumers' role (dbt var reader_role)
READER_ROLE = "platform_reader"
# no model's share of the small-catalogue build above this many times its share of the main one
TARGET_SHARE_RATIO = 3.0
# one plain sequential scan: no parallel workers, no index (count(*) could use an index-only scan)
SCAN_OPTIONS = (
    "-c max_parallel_workers_per_gather=0 -c enable_indexscan=off -c enable_indexonlyscan=off -c enable_bitmapscan=off"
)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="benchmark: full build, daily run and their floors, scan of raw.events, lookups (as ratios)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--learners", type=positive_int, default=50_000, help="synthetic scale (default 50,000)")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument("--database", default="lp_bench", help="database to (re)create and build in (default lp_bench)")
    p.add_argument("--anchor", type=iso_date, help="end date of the synthetic history, YYYY-MM-DD (default today, UTC)")
    p.add_argument("--skip-generate", action="store_true", help="keep the raw data already in --database")
    p.add_argument("--threads", type=positive_int, help="dbt threads (default: profiles.yml)")
    p.add_argument("--no-floor", action="store_true",
                   help="skip the floor: the same dbt build on a near-empty warehouse (fixed cost of the DAG); "
                   "the ratios need it and are not computed without it")
    p.add_argument("--lookup-seconds", type=float, default=LOOKUP_SECONDS,
                   help=f"how long the {LOOKUP_READERS} readers look up recommendation lists (default {LOOKUP_SECONDS:g}; "
                   "0 skips the lookup)")
    p.add_argument("--no-small-catalogue", dest="small_catalogue", action="store_false",
                   help=f"skip the small catalogue: the full build on {SMALL_LEARNERS:,} learners and "
                   f"{SMALL_COURSES} courses, each model's share of it against its share of the main build")
    p.set_defaults(fn=_bench)


def _bench(args: argparse.Namespace) -> int:
    result = run(
        learners=args.learners,
        seed=args.seed,
        database=args.database,
        anchor=args.anchor,
        skip_generate=args.skip_generate,
        threads=args.threads,
        floor=not args.no_floor,
        small_catalogue=args.small_catalogue,
        lookup_seconds=args.lookup_seconds,
    )
    print(format_table(result))
    return 0


def _timed(fn, *a, **kw):
    start = time.perf_counter()
    value = fn(*a, **kw)
    return value, time.perf_counter() - start


def run_dbt_measured(args: list[str], env: dict[str, str], target_path: str) -> dict:
    """`dbt <args>` as a child process: wall time, the child's peak RSS and the bytes PostgreSQL
    wrote to temporary files meanwhile (sorts and hashes that did not fit in work_mem;
    pg_stat_database, flushed when dbt's sessions end).

    The peak is the kernel's high-water mark of the dbt process (VmHWM, read every 0.2 s while it
    runs; it only grows, so the last reading is the peak): getrusage's maxrss of a child would
    also count the copy of this process it was forked from.

    An untimed `dbt parse` into the same target comes first, so every measured build starts from a
    saved parse of the project as it is (as a scheduled build of an unchanged checkout does), and a
    stale saved parse is replaced there (lpdata.dbt), not failed on.
    """
    run_dbt(["parse"], env, target_path=target_path, capture=True)
    temp_before = _temp_usage(env)
    cmd, run_env = dbt_invocation(args, env, target_path=target_path)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=run_env)
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise dbt_failed(args, proc.returncode)
    temp_after = _temp_usage(env)
    return {
        "seconds": round(seconds, 1),
        "dbt_peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb else None,
        "pg_temp_files": temp_after[0] - temp_before[0],
        "pg_temp_mb": round((temp_after[1] - temp_before[1]) / 2**20, 1),
    }


def _vm_hwm_kb(pid: int) -> int:
    """Peak resident set of a running process in kB (Linux /proc; 0 where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _temp_usage(env: dict[str, str]) -> tuple[int, int]:
    with db.connect(env) as conn:  # a new connection: its first read of the statistics is current
        row = conn.execute(
            "select temp_files, temp_bytes from pg_stat_database where datname = current_database()"
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _self_peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _run_results(target_path: str) -> list[dict]:
    """The node results of the last dbt invocation of target_path (none when it has not run)."""
    artifact = read_artifact("run_results.json", target_path, required=False)
    return artifact["results"] if artifact else []


def _node_timings(target_path: str) -> dict[str, float]:
    """Every node's execution time of the last dbt invocation, by node name (kind in brackets)."""
    out = {}
    for r in _run_results(target_path):
        kind, _, name = r["unique_id"].split(".", 2)
        out[name if kind == "model" else f"{name} [{kind}]"] = round(r["execution_time"], 2)
    return out


def _model_timings(target_path: str, top: int = 12) -> list[dict]:
    """The slowest nodes of the last dbt invocation (run_results.json)."""
    results = _run_results(target_path)
    rows = [
        {"node": r["unique_id"].split(".", 2)[-1], "kind": r["unique_id"].split(".")[0], "seconds": round(r["execution_time"], 2)}
        for r in results
    ]
    return sorted(rows, key=lambda r: -r["seconds"])[:top]


def _node_total(target_path: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for r in _run_results(target_path):
        kind = r["unique_id"].split(".")[0]
        totals[kind] = round(totals.get(kind, 0.0) + r["execution_time"], 1)
    return totals


# the group of the project's hooks (publishing among them), which belong to no product
HOOKS_GROUP = "hooks and publishing"


def _node_group(node: dict, nodes: dict) -> str:
    """The dbt group (a product, or data_platform for staging and the shared core state) a node's
    time counts to: a model's own; a test's or unit test's that of the model it tests (the first
    model it depends on), data_platform for a test of sources; a seed's and its tests'
    `reference`; the project's hooks and publishing their own."""
    kind = node.get("resource_type")
    if kind == "operation":
        return HOOKS_GROUP
    if kind == "seed":
        return "reference"
    if kind in ("test", "unit_test"):
        parents = node.get("depends_on", {}).get("nodes", [])
        models = [uid for uid in parents if uid.startswith("model.")]
        if not models:  # a test of landed sources (staging's) or of seeds
            return "data_platform" if any(uid.startswith("source.") for uid in parents) else "reference"
        return nodes.get(node.get("attached_node") or models[0], {}).get("group") or "ungrouped"
    return node.get("group") or "ungrouped"


def _group_timings(target_path: str) -> dict[str, float]:
    """The execution time of the last dbt invocation per group (_node_group), summed over its
    nodes: where a build's node time goes, product by product."""
    manifest = read_artifact("manifest.json", target_path, required=False)
    if not manifest:
        return {}
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    totals: dict[str, float] = {}
    for r in _run_results(target_path):
        uid = r["unique_id"]
        node = nodes.get(uid) or {"resource_type": uid.split(".")[0]}
        group = _node_group(node, nodes)
        totals[group] = totals.get(group, 0.0) + r["execution_time"]
    return {group: round(seconds, 1) for group, seconds in sorted(totals.items(), key=lambda kv: -kv[1])}


def scan_events(env: dict[str, str], repeat: int = 3) -> tuple[int, float, list[float]]:
    """One sequential scan of raw.events (count(*), parallel workers and index scans off).

    The first scan after a build can pay for setting hint bits and for pages the build pushed out
    of the cache (it can take several times as long as the next); the figure is the median of
    `repeat` scans after one warm-up scan, so the ratios do not depend on what ran before.
    """
    with db.connect(env, options=SCAN_OPTIONS) as conn:
        plan = "\n".join(r[0] for r in conn.execute("explain select count(*) from raw.events").fetchall())
        assert "Seq Scan" in plan and "Gather" not in plan, plan
        n = conn.execute("select count(*) from raw.events").fetchone()[0]
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            conn.execute("select count(*) from raw.events").fetchone()
            times.append(time.perf_counter() - start)
        return n, sorted(times)[len(times) // 2], [round(t, 3) for t in times]


def copy_events(env: dict[str, str]) -> float:
    """A bare copy of raw.events into a new unlogged table (no casts, no deduplication, no index):
    the least any build that stages the events as a table can spend on them."""
    with db.connect(env, options=SCAN_OPTIONS, autocommit=True) as conn:
        conn.execute("drop table if exists public.lp_bench_events_copy")
        start = time.perf_counter()
        conn.execute("create unlogged table public.lp_bench_events_copy as select * from raw.events")
        seconds = time.perf_counter() - start
        conn.execute("drop table public.lp_bench_events_copy")
        return seconds


# what one appended day changes: the learners with any new row, and the new events
DAILY_SHARE_SQL = """
with new_rows as (
    select learner_id from raw.events where received_at > %(watermark)s
    union select learner_id from raw.enrollments where enrolled_at > %(watermark)s
    union select learner_id from raw.assessment_submissions where submitted_at > %(watermark)s
    union select learner_id from raw.coaching_messages where sent_at > %(watermark)s
    union select learner_id from raw.recommendation_impressions where shown_at > %(watermark)s
    union select learner_id from raw.learners where updated_at > %(watermark)s
)
select
    (select count(*) from new_rows),
    (select count(distinct learner_id) from raw.learners),
    (select count(*) from raw.events where received_at > %(watermark)s),
    (select count(*) from raw.events)
"""


def daily_share(env: dict[str, str], watermark) -> dict:
    with db.connect(env) as conn:
        touched, learners, new_events, events = conn.execute(DAILY_SHARE_SQL, {"watermark": watermark}).fetchone()
    return {
        "learners_touched": touched, "learners": learners, "learners_touched_share": round(touched / max(learners, 1), 4),
        "new_events": new_events, "events": events, "new_events_share": round(new_events / max(events, 1), 4),
    }


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank: the smallest value with at least q of them at
    or below it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _reader(env: dict[str, str]):
    conn = db.connect(env, autocommit=True)
    conn.execute(f"set role {READER_ROLE}")
    return conn


def lookup_plan(env: dict[str, str], learner_id: int) -> dict:
    """How PostgreSQL answers one lookup (EXPLAIN as the consumers' role), the index it reads, and
    the indexes of the table behind the published view that lead with learner_id."""
    with _reader(env) as conn:
        plan = [r[0] for r in conn.execute(f"explain {LOOKUP_SQL}", (learner_id,)).fetchall()]
    used = re.search(r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using |on )(\S+)", "\n".join(plan))
    with db.connect(env) as conn:
        # the table the published view reads (the latest version)
        table = conn.execute(
            """
            select distinct d.refobjid::regclass::text
            from pg_rewrite as r
            join pg_depend as d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
            join pg_class as c on c.oid = d.refobjid and c.oid <> r.ev_class and c.relkind in ('r', 'p')
            where r.ev_class = %s::regclass
            """,
            (LOOKUP_RELATION,),
        ).fetchone()
        indexes = [] if table is None else [r[0] for r in conn.execute(
            """
            select pg_get_indexdef(i.indexrelid)
            from pg_index as i
            join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
            where i.indrelid = %s::regclass and a.attname = 'learner_id'
            order by i.indexrelid::regclass::text
            """,
            (table[0],),
        ).fetchall()]
    return {
        "plan": plan,
        "uses_index": used is not None,
        "index_node": used.group(1) if used else None,
        "index": used.group(2) if used else None,
        "table": table[0] if table else None,
        "learner_id_indexes": indexes,
    }


def timed_lookups(connect: Callable[[], psycopg.Connection], lookup: Callable[[psycopg.Connection, int], int],
                  learners: list[int], *, readers: int, seconds: float, seed: int = 42,
                  pause_ms: float = 0.0) -> tuple[list[float], int]:
    """`readers` threads, each with its own connection (connect()), each running lookup (which
    returns the rows it read) for one random learner after another, pausing pause_ms between two,
    for `seconds`: the latency of every lookup in ms, measured by the client from sending the query
    to having every row, and the rows read. A reader that fails fails the measure."""
    latencies: list[float] = []
    rows_read = [0]
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(readers)  # every reader connected before any looks up

    def reader(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        mine, rows = [], 0
        try:
            conn = connect()
        except Exception as exc:  # noqa: BLE001 - reported with the results
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
            start.wait()
            return
        with conn:
            start.wait()
            end = time.perf_counter() + seconds
            try:
                while time.perf_counter() < end:
                    learner_id = rng.choice(learners)
                    t0 = time.perf_counter()
                    rows += lookup(conn, learner_id)
                    mine.append(time.perf_counter() - t0)
                    if pause_ms:
                        time.sleep(pause_ms / 1000)
            except Exception as exc:  # noqa: BLE001 - reported with the results
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
        with lock:
            latencies.extend(mine)
            rows_read[0] += rows

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"lookup readers failed: {errors[0]}")
    return [1000 * t for t in latencies], rows_read[0]


def measure_lookups(env: dict[str, str], seconds: float = LOOKUP_SECONDS, readers: int = LOOKUP_READERS,
                    seed: int = 42, pause_ms: float = 0.0) -> dict:
    """`readers` threads, each with its own connection as the consumers' role, each looking up one
    random learner's recommendation lists after another (pausing pause_ms between two) for
    `seconds` (timed_lookups)."""
    with db.connect(env) as conn:
        learners = [r[0] for r in conn.execute(f"select distinct learner_id from {LOOKUP_RELATION}").fetchall()]
    if not learners:
        return {"lookups": 0, "learners_with_lists": 0}
    ms, rows_read = timed_lookups(
        lambda: _reader(env), lambda conn, learner_id: len(conn.execute(LOOKUP_SQL, (learner_id,)).fetchall()),
        learners, readers=readers, seconds=seconds, seed=seed, pause_ms=pause_ms,
    )
    return {
        "readers": readers, "seconds": seconds, "pause_ms": pause_ms, "learners_with_lists": len(learners),
        "lookups": len(ms),
        "lookups_per_s": round(len(ms) / seconds), "rows_per_lookup": round(rows_read / max(len(ms), 1), 1),
        "p50_ms": round(percentile(ms, 0.50), 2), "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2), "target_p99_ms": TARGET_LOOKUP_P99_MS,
        "meets": percentile(ms, 0.99) <= TARGET_LOOKUP_P99_MS,
        **lookup_plan(env, learners[len(learners) // 2]),
    }


FLOOR_LEARNERS = 200


def measure_floor(env: dict[str, str], target: str, dbt_extra: list[str], anchor: dt.date | None) -> dict:
    """The fixed cost of the DAG: the same full and daily builds on a near-empty warehouse.

    Every node (models, tests, hooks, publishing) costs dbt and PostgreSQL some time whatever the
    data; a build at scale cannot take less than this.
    """
    from .generate import append_days, generate

    floor_env = dict(env)
    floor_env["PGDATABASE"] = f"{env['PGDATABASE']}_floor"
    db.ensure_database(floor_env, recreate=True)
    try:
        generate(floor_env, learners=FLOOR_LEARNERS, seed=1, anchor=anchor, progress=False)
        print(f"==> floor: full build of {FLOOR_LEARNERS} learners", flush=True)
        full = run_dbt_measured(["build", "--full-refresh", *dbt_extra], floor_env, f"{target}_floor")["seconds"]
        full_groups = _group_timings(f"{target}_floor")
        append_days(floor_env, days=1, progress=False)
        print("==> floor: daily build", flush=True)
        daily = run_dbt_measured(["build", *dbt_extra], floor_env, f"{target}_floor")["seconds"]
        nodes = len(_run_results(f"{target}_floor"))
        daily_groups = _group_timings(f"{target}_floor")
    finally:
        db.drop_database(floor_env)
    return {"learners": FLOOR_LEARNERS, "full_build_s": round(full, 1), "daily_build_s": round(daily, 1), "nodes": nodes,
            "full_by_group_s": full_groups, "daily_by_group_s": daily_groups}


SMALL_LEARNERS = 3_000
SMALL_COURSES = 12
# a model under this share of the small build is not compared: a model of a second or less is
# mostly dbt's fixed cost per node, a far larger share of a 3,000-learner build than of the main
# one, and the ratio of two such shares says nothing about its plan
SMALL_MIN_SHARE = 0.05


def model_shares(nodes_s: dict[str, float]) -> dict[str, float]:
    """Each model's share of the build's model time (the sum of every model's execution time;
    tests and other nodes, named with their kind in brackets by _node_timings, are left out)."""
    models = {name: s for name, s in nodes_s.items() if not name.endswith("]")}
    total = sum(models.values())
    return {name: s / total for name, s in models.items()} if total > 0 else {}


def share_ratios(small_nodes_s: dict[str, float], main_nodes_s: dict[str, float], top: int = 8) -> dict:
    """The small build's slowest models, each with its share of that build, its share of the main
    build and their ratio; and the largest ratio among the models holding at least SMALL_MIN_SHARE
    of the small build (a model that takes 60% of it but 5% of the main build: 12x)."""
    small, main = model_shares(small_nodes_s), model_shares(main_nodes_s)

    def row(name: str) -> dict:
        m = main.get(name)
        return {"node": name, "seconds": small_nodes_s[name], "share": round(small[name], 4),
                "main_share": round(m, 4) if m is not None else None,
                "ratio": round(small[name] / m, 2) if m else None}

    rows = [row(name) for name in sorted(small, key=lambda n: -small[n])]
    compared = [r for r in rows if r["share"] >= SMALL_MIN_SHARE and r["ratio"] is not None]
    worst = max(compared, key=lambda r: r["ratio"], default=None)
    return {"slowest": rows[:top], "max_ratio": worst, "target_ratio": TARGET_SHARE_RATIO,
            "meets": worst is None or worst["ratio"] <= TARGET_SHARE_RATIO}


def measure_small_catalogue(env: dict[str, str], target: str, dbt_extra: list[str], anchor: dt.date | None,
                            seed: int) -> dict:
    """The full build on a small catalogue (SMALL_LEARNERS learners, SMALL_COURSES courses): many
    learners per course, so the per-course relations are dense where the main case is sparse."""
    from .generate import generate

    small_env = dict(env)
    small_env["PGDATABASE"] = f"{env['PGDATABASE']}_small"
    db.ensure_database(small_env, recreate=True)
    try:
        generate(small_env, learners=SMALL_LEARNERS, seed=seed, anchor=anchor, progress=False, courses=SMALL_COURSES)
        print(f"==> small catalogue: full build of {SMALL_LEARNERS:,} learners and {SMALL_COURSES} courses", flush=True)
        measured = run_dbt_measured(["build", "--full-refresh", *dbt_extra], small_env, f"{target}_small")
        nodes = _node_timings(f"{target}_small")
    finally:
        db.drop_database(small_env)
    return {"learners": SMALL_LEARNERS, "courses": SMALL_COURSES, "full_build_s": measured["seconds"],
            "nodes_s": nodes}


def run(
    learners: int = 50_000,
    seed: int = 42,
    database: str = "lp_bench",
    anchor: dt.date | None = None,
    skip_generate: bool = False,
    threads: int | None = None,
    floor: bool = True,
    small_catalogue: bool = True,
    lookup_seconds: float = LOOKUP_SECONDS,
) -> dict:
    from .generate import append_days, generate

    env = dict(db.pg_env())
    env["PGDATABASE"] = database
    target = f"target_bench_{database}"
    dbt_extra = ["--threads", str(threads)] if threads else []
    out: dict = {"learners": learners, "seed": seed, "database": database, "server_version": None}

    if not skip_generate:
        db.ensure_database(env, recreate=True)
        print(f"==> generating {learners:,} learners into {database}", flush=True)
        counts, seconds = _timed(generate, env, learners=learners, seed=seed, anchor=anchor, progress=True)
        rows = sum(counts.values())
        out["generate"] = {"seconds": round(seconds, 1), "rows": rows, "events": counts.get("events"),
                           "rows_per_s": round(rows / seconds),
                           # the generator runs in this process, block by block (5,000 learners each)
                           "peak_rss_mb": _self_peak_rss_mb()}
    else:
        db.ensure_database(env)
        out["generate"] = None
    out["server_version"] = db.server_version(env)
    out["server_release"] = db.server_release(env)
    with db.connect(env) as conn:
        out["server_settings"] = {
            name: conn.execute(f"show {name}").fetchone()[0] for name in db.EMBEDDED_SETTINGS
        }
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"bench_{learners}.json"

    def save() -> None:  # after every phase, so a long run leaves what it measured so far
        path.write_text(json.dumps(out, indent=2, default=str))

    save()

    print("==> full build (dbt build --full-refresh)", flush=True)
    measured = run_dbt_measured(["build", "--full-refresh", *dbt_extra], env, target)
    full = measured["seconds"]
    out["full_build"] = {**measured, "by_kind_s": _node_total(target), "by_group_s": _group_timings(target),
                         "slowest": _model_timings(target), "nodes_s": _node_timings(target)}
    with db.connect(env) as conn:
        out["database_mb"] = round(conn.execute("select pg_database_size(current_database())").fetchone()[0] / 2**20)
    save()

    print("==> one sequential scan of raw.events (median of 3, after a warm-up scan)", flush=True)
    n_events, scan, scans = scan_events(env)
    out["scan"] = {"seconds": round(scan, 3), "events": n_events, "repeats_s": scans}
    print("==> a bare copy of raw.events (the least a staged copy costs)", flush=True)
    out["copy_events_s"] = round(copy_events(env), 2)
    save()

    if lookup_seconds > 0:
        print(f"==> {LOOKUP_READERS} concurrent readers looking up one learner's recommendation lists "
              f"for {lookup_seconds:g} s", flush=True)
        out["lookup"] = measure_lookups(env, seconds=lookup_seconds, seed=seed)
        print(f"==> the same readers, each pausing {LOOKUP_PAUSE_MS:g} ms between two lookups", flush=True)
        out["lookup_paced"] = measure_lookups(env, seconds=lookup_seconds, seed=seed, pause_ms=LOOKUP_PAUSE_MS)
        save()

    print("==> append one day, then the incremental daily build (dbt build)", flush=True)
    with db.connect(env) as conn:
        watermark = conn.execute("select max(received_at) from raw.events").fetchone()[0]
    appended, append_s = _timed(append_days, env, days=1, progress=False)
    out["append"] = {"seconds": round(append_s, 1), "rows": appended, **daily_share(env, watermark)}
    save()
    measured = run_dbt_measured(["build", *dbt_extra], env, target)
    incr = measured["seconds"]
    out["incremental_build"] = {**measured, "by_kind_s": _node_total(target), "by_group_s": _group_timings(target),
                                "slowest": _model_timings(target), "nodes_s": _node_timings(target)}
    save()

    if floor:
        out["floor"] = measure_floor(env, target, dbt_extra, anchor)
        out["ratios"] = ratios(learners=learners, scan=scan, full=full, daily=incr, floor=out["floor"])
        save()

    if small_catalogue:
        out["small_catalogue"] = measure_small_catalogue(env, target, dbt_extra, anchor, seed)
        out["small_catalogue"].update(share_ratios(out["small_catalogue"]["nodes_s"], out["full_build"]["nodes_s"]))

    save()
    out["written_to"] = str(path)
    return out


def ratios(learners: int, scan: float, full: float, daily: float, floor: dict) -> dict:
    """The targets' ratios, from times of one run: each with its value, target and verdict.

    A build's data work is its time minus the floor's build of the same kind (the DAG's fixed
    cost, measured on FLOOR_LEARNERS learners): what the build spends because of the data. A
    build faster than its floor has no data work to measure (only a tiny scale or a loaded
    machine gives one: the difference is noise), so a ratio over such a figure has no verdict;
    over a full build no slower than its floor, no value either.
    """
    full_work = full - floor["full_build_s"]
    daily_work = daily - floor["daily_build_s"]
    data_work = daily_work / full_work if full_work > 0 else None
    over_floor = daily / floor["daily_build_s"] if floor["daily_build_s"] > 0 else None
    scans = full_work / scan if scan > 0 else None

    def verdict(value, target, measurable=True):
        return None if value is None or not measurable else value <= target

    return {
        "full_data_work_s": round(full_work, 1),
        "daily_data_work_s": round(daily_work, 1),
        "data_work_ratio": {"value": None if data_work is None else round(data_work, 4),
                            "target": TARGET_DATA_WORK_RATIO, "meets": verdict(data_work, TARGET_DATA_WORK_RATIO, daily_work >= 0)},
        "daily_over_floor": {"value": None if over_floor is None else round(over_floor, 2),
                             "target": TARGET_DAILY_OVER_FLOOR, "applies": learners >= DAILY_OVER_FLOOR_FROM,
                             "meets": verdict(over_floor, TARGET_DAILY_OVER_FLOOR)},
        "full_data_work_scans": {"value": None if scans is None else round(scans, 1),
                                 "target": TARGET_DATA_WORK_SCANS, "meets": verdict(scans, TARGET_DATA_WORK_SCANS, full_work > 0)},
    }


def plan_nodes(plan: list[str]) -> str:
    """An EXPLAIN plan's nodes, outermost first, without costs: "Sort <- Index Scan using i on t"."""
    nodes = [line.strip().removeprefix("->").strip().split("  (cost=")[0] for line in plan if "(cost=" in line]
    return " <- ".join(nodes)


def _verdict(meets: bool | None) -> str:
    return {True: "meets", False: "MISSES", None: "no verdict"}[meets]


def _ratio_rows(r: dict) -> list[str]:
    """The table's rows of the floor, the targets' ratios and the lookup."""
    rows = []
    floor, q = r.get("floor"), r.get("ratios")
    if floor and q:
        full, daily, scan = r["full_build"]["seconds"], r["incremental_build"]["seconds"], r["scan"]["seconds"]
        fmt = {
            "data_work_ratio": lambda v: f"{100 * v:.1f}%",
            "daily_over_floor": lambda v: f"{v:.1f}x",
            "full_data_work_scans": lambda v: f"{v:.1f} scans",
        }

        def value(key: str) -> str:
            v = q[key]["value"]
            return "n/a" if v is None else fmt[key](v)

        over = q["daily_over_floor"]
        if over["applies"] or over["meets"] is None:
            over_target = f"<= {over['target']:g}x: {_verdict(over['meets'])}"
        else:  # printed at every scale; the target is set for 500,000 learners and more
            over_target = (f"<= {over['target']:g}x from {DAILY_OVER_FLOOR_FROM:,} learners, not applied here: "
                           f"would {'meet' if over['meets'] else 'miss'}")
        rows += [
            f"| floor ({floor['nodes']} nodes, {floor['learners']} learners): full / daily build "
            f"| {floor['full_build_s']:.1f} s / {floor['daily_build_s']:.1f} s | | |",
            f"| data work ratio: (daily - daily floor) / (full - full floor) "
            f"| ({daily:.1f} - {floor['daily_build_s']:.1f}) / ({full:.1f} - {floor['full_build_s']:.1f}) s "
            f"| {value('data_work_ratio')} "
            f"| <= {100 * q['data_work_ratio']['target']:g}%: {_verdict(q['data_work_ratio']['meets'])} |",
            f"| daily run over its floor: daily / daily floor | {daily:.1f} / {floor['daily_build_s']:.1f} s "
            f"| {value('daily_over_floor')} | {over_target} |",
            f"| full data work in scans: (full - full floor) / scan "
            f"| ({full:.1f} - {floor['full_build_s']:.1f}) / {scan:.2f} s | {value('full_data_work_scans')} "
            f"| <= {q['full_data_work_scans']['target']:g} scans: {_verdict(q['full_data_work_scans']['meets'])} |",
        ]
    else:
        rows.append("| ratios | not computed: they need the floor (run without --no-floor) | | |")
    look = r.get("lookup")
    if look and look.get("lookups"):
        for lk in (look, r.get("lookup_paced")):
            if not lk or not lk.get("lookups"):
                continue
            pace = f", each pausing {lk['pause_ms']:g} ms" if lk.get("pause_ms") else ", no pause"
            rows.append(
                f"| lookup of one learner's lists, {lk['readers']} concurrent readers{pace}, {lk['seconds']:g} s "
                f"| p50 {lk['p50_ms']:.1f} ms, p99 {lk['p99_ms']:.1f} ms, max {lk['max_ms']:.1f} ms "
                f"({lk['lookups']:,} lookups, {lk['rows_per_lookup']:g} rows each) "
                f"| {lk['lookups_per_s']:,} lookups/s | p99 <= {lk['target_p99_ms']:g} ms: {_verdict(lk['meets'])} |"
            )
    elif look is not None:
        rows.append(f"| lookup of one learner's lists | no learner has lists in {LOOKUP_RELATION} | | |")
    return rows


def group_work(r: dict) -> list[dict]:
    """Per group (_node_group), the node time of the full and the daily build, and their data work:
    each minus the floor's node time of the same group and kind of build (nothing subtracted
    without the floor). Node times add up the threads' work, so they exceed the builds' wall
    time; their shares say which products the daily data work is spent on, and each group's
    daily / full ratio which of them already do less work in a daily run."""
    full = r.get("full_build", {}).get("by_group_s") or {}
    daily = r.get("incremental_build", {}).get("by_group_s") or {}
    floor = r.get("floor") or {}
    floor_full, floor_daily = floor.get("full_by_group_s") or {}, floor.get("daily_by_group_s") or {}
    rows = []
    for group in sorted(set(full) | set(daily), key=lambda g: -daily.get(g, 0.0)):
        full_work = full.get(group, 0.0) - floor_full.get(group, 0.0)
        daily_work = daily.get(group, 0.0) - floor_daily.get(group, 0.0)
        rows.append({
            "group": group, "full_s": full.get(group, 0.0), "daily_s": daily.get(group, 0.0),
            "full_work_s": round(full_work, 1), "daily_work_s": round(daily_work, 1),
            "daily_over_full": round(daily_work / full_work, 3) if full_work > 0 else None,
        })
    total = sum(max(row["daily_work_s"], 0.0) for row in rows)
    for row in rows:
        row["daily_work_share"] = round(max(row["daily_work_s"], 0.0) / total, 3) if total > 0 else None
    return rows


def _group_lines(r: dict) -> list[str]:
    rows = group_work(r)
    if not rows:
        return []
    if not (r.get("floor") or {}).get("daily_by_group_s"):
        lines = ["node time by group (summed over threads), full / daily build:"]
        return lines + [f"  {row['group']:<22} {row['full_s']:7.1f} / {row['daily_s']:7.1f} s" for row in rows]
    lines = ["node time by group (summed over threads), full / daily build; the daily's data work (minus the "
             "floor's), its share of all daily data work, and over the full build's data work:"]
    for row in rows:
        ratio = f"{100 * row['daily_over_full']:.0f}%" if row["daily_over_full"] is not None else "n/a"
        share = f"{100 * row['daily_work_share']:.0f}%" if row["daily_work_share"] is not None else "n/a"
        lines.append(
            f"  {row['group']:<22} {row['full_s']:7.1f} / {row['daily_s']:7.1f} s; "
            f"data work {row['daily_work_s']:7.1f} s, {share:>4}, {ratio:>5} of the full build's"
        )
    return lines


def format_table(r: dict) -> str:
    gen = r.get("generate")
    ok = {True: "meets", False: "MISSES"}
    lines = [
        f"Benchmark: {r['learners']:,} learners (seed {r['seed']}), database {r['database']}, "
        f"PostgreSQL {r.get('server_release') or r['server_version']}"
        + "".join(f", {name} {value}" for name, value in (r.get("server_settings") or {}).items()),
        "",
        "| measure | value | ratio | target |",
        "| --- | --- | --- | --- |",
    ]
    if gen:
        lines.append(
            f"| generation | {gen['seconds']:.1f} s, {gen['rows']:,} rows ({gen['events']:,} events) "
            f"| {gen['rows_per_s']:,} rows/s | |"
        )
    lines += [
        f"| sequential scan of raw.events (median of 3, warm) | {r['scan']['seconds']:.2f} s ({r['scan']['events']:,} rows) "
        "| 1 scan | |",
        f"| bare copy of raw.events (create unlogged table as select *) | {r['copy_events_s']:.2f} s "
        f"| {r['copy_events_s'] / r['scan']['seconds']:.1f} scans | |" if r.get("copy_events_s") and r["scan"]["seconds"] else "",
        f"| full build (dbt build --full-refresh) | {r['full_build']['seconds']:.1f} s | | |",
        f"| incremental daily build (append 1 day + dbt build) | {r['incremental_build']['seconds']:.1f} s | | |",
    ]
    app = r.get("append") or {}
    if "learners_touched_share" in app:
        lines.append(
            f"| the appended day | {app['new_events']:,} new events ({100 * app['new_events_share']:.1f}% of all), "
            f"{app['learners_touched']:,} learners with new rows | {100 * app['learners_touched_share']:.1f}% of learners | |"
        )
    lines += _ratio_rows(r)
    lines = [line for line in lines[:2]] + [line for line in lines[2:] if line] + ["", "Slowest nodes of the incremental daily build (run_results.json):"]
    for row in r["incremental_build"]["slowest"]:
        lines.append(f"  {row['seconds']:8.2f} s  {row['kind']:<10} {row['node']}")
    lines.append(f"time by node kind (incremental): {r['incremental_build']['by_kind_s']}")
    lines += _group_lines(r)
    gen_mem = f"generator {gen['peak_rss_mb']:,.0f} MB peak RSS; " if gen and "peak_rss_mb" in gen else ""
    fb, ib = r["full_build"], r["incremental_build"]
    if fb.get("dbt_peak_rss_mb") and ib.get("dbt_peak_rss_mb"):
        lines.append(
            f"memory: {gen_mem}dbt {fb['dbt_peak_rss_mb']:,.0f} MB (full) / {ib['dbt_peak_rss_mb']:,.0f} MB (daily) "
            f"peak RSS; PostgreSQL temporary files {fb['pg_temp_mb']:,.0f} MB (full) / {ib['pg_temp_mb']:,.0f} MB (daily); "
            f"database {r.get('database_mb', 0):,} MB after the full build"
        )
    look = r.get("lookup")
    if look and look.get("lookups"):
        lines.append(
            f"lookup plan (EXPLAIN as {READER_ROLE}): {plan_nodes(look['plan'])}: "
            + (f"reads {look['index']}" if look["uses_index"] else "reads NO index")
            + f"; indexes of {look['table']} leading with learner_id: "
            + ("; ".join(look["learner_id_indexes"]) or "none")
        )
    small = r.get("small_catalogue")
    if small:
        lines.append(
            f"small catalogue ({small['learners']:,} learners, {small['courses']} courses): full build "
            f"{small['full_build_s']:.1f} s; slowest models, share of its model time (share in the main full build):"
        )
        for row in small["slowest"]:
            main = f"{100 * row['main_share']:.1f}%, {row['ratio']:.1f}x" if row["ratio"] is not None else "not in it"
            lines.append(f"  {row['seconds']:8.2f} s  {100 * row['share']:5.1f}%  ({main})  {row['node']}")
        worst = small["max_ratio"]
        if worst:
            lines.append(
                f"  largest share ratio (models with {100 * SMALL_MIN_SHARE:g}%+ of the small build): {worst['node']} "
                f"{worst['ratio']:.1f}x; target <= {small['target_ratio']:g}x: {ok[small['meets']]}"
            )
        else:
            lines.append(f"  no model holds {100 * SMALL_MIN_SHARE:g}% of the small build: {ok[small['meets']]}")
    lines.append(f"written to {r.get('written_to')}")
    return "\n".join(lines)
