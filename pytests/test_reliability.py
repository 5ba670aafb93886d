"""Reliability of what consumers read: idempotent builds, SIGKILL at each kind of boundary, readers during a build.

All checks go through the PUBLISHED relations (discovered from the manifest: public models, schema
config.meta.publish_schema, their alias, plus the unversioned view on the latest version), read as
the consumers' role (`SET ROLE platform_reader`).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from conftest import build_warehouse, published_relations

from lpdata import PROJECT_ROOT, db
from lpdata.dbt import dbt_invocation

READER_ROLE = "platform_reader"
LEARNERS = int(os.environ.get("LP_RELIABILITY_LEARNERS", "600"))
LOAD_READERS = 20
# Each reader pauses this long between queries: 20 readers then ask about 400 queries a second,
# a consumer load that still meets every phase of the build, where readers spinning without pause
# took both cores and stretched the build to several times its solo time.
READER_PAUSE_S = 0.05
LOAD_BUILD_TIMEOUT_S = int(os.environ.get("LP_LOAD_BUILD_TIMEOUT_S", "1500"))
ARTIFACTS = PROJECT_ROOT / "artifacts"


def reader_connection(wh) -> psycopg.Connection:
    conn = db.connect(wh.env, autocommit=True)
    conn.execute(f"set role {READER_ROLE}")
    return conn


def content_hashes(wh, relations: list[str], conn: psycopg.Connection | None = None) -> dict[str, tuple]:
    """Row count and md5 of every row (in text order) per relation, read as the consumers' role."""
    own = conn is None
    conn = conn or reader_connection(wh)
    try:
        out = {}
        for relation in relations:
            if conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is None:
                out[relation] = None
                continue
            out[relation] = tuple(
                conn.execute(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                    f"from {relation} as t"
                ).fetchone()
            )
        return out
    finally:
        if own:
            conn.close()


def start_build(wh, log_path: Path) -> subprocess.Popen:
    """`dbt build` as a subprocess in its own process group (so the whole group can be killed)."""
    cmd, env = dbt_invocation(wh.dbt_args("build"), wh.env, target_path=wh.target_path)
    log = open(log_path, "w")  # noqa: SIM115 - closed by the caller via proc.stdout
    return subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )


def build_sessions(wh) -> list[tuple[str, str]]:
    """What every session of the warehouse's database other than the readers is doing now: state,
    wait event, the pids blocking it, seconds in its statement, and its first 120 characters."""
    with db.connect(wh.env, autocommit=True) as conn:
        rows = conn.execute(
            "select pid, state, coalesce(wait_event_type || ':' || wait_event, '-'), pg_blocking_pids(pid), "
            "round(extract(epoch from clock_timestamp() - query_start)::numeric, 1), left(query, 120) "
            "from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
            "and usename is not null and state <> 'idle' and query not like 'select count(*) from %%'"
        ).fetchall()
    return [
        (f"{state}, wait {wait}: {query!r}", f"pid {pid} blocked by {blockers}, {secs} s in its statement")
        for pid, state, wait, blockers, secs, query in rows
    ]


def wait_for_orphan_backends(wh, timeout: float = 120.0) -> int:
    """Sessions of a killed client finish their current statement, then end; wait for them (or end them)."""
    deadline = time.monotonic() + timeout
    with db.connect(wh.env, autocommit=True) as conn:
        query = "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
        while time.monotonic() < deadline:
            if conn.execute(query).fetchone()[0] == 0:
                return 0
            time.sleep(0.2)
        return conn.execute(
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()) t"
        ).fetchone()[0]


@pytest.fixture(scope="module")
def reliability_warehouse():
    return build_warehouse("reliability", learners=LEARNERS)


@pytest.fixture(scope="module")
def baseline(reliability_warehouse):
    wh = reliability_warehouse
    relations = published_relations(wh.artifact("manifest.json"))
    hashes = content_hashes(wh, relations)
    missing = [r for r, h in hashes.items() if h is None]
    assert not missing, f"not published after a clean build: {missing}"
    return relations, hashes


@pytest.fixture(scope="module")
def build_under_load(reliability_warehouse, baseline, tmp_path_factory) -> dict:
    """A second build of the same data while 20 readers (as platform_reader) query every published
    mart in a loop, each pausing READER_PAUSE_S between queries: what the readers saw, and the
    published marts' contents after the build."""
    wh = reliability_warehouse
    relations, expected = baseline
    tmp_path = tmp_path_factory.mktemp("load")
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[str] = []
    wrong: list[str] = []
    lock = threading.Lock()

    def reader(i: int) -> None:
        conn = reader_connection(wh)
        k = i
        while not stop.is_set():
            relation = relations[k % len(relations)]
            k += 1
            t0 = time.perf_counter()
            try:
                n = conn.execute(f"select count(*) from {relation}").fetchone()[0]
            except psycopg.Error as exc:
                with lock:
                    errors.append(f"{relation}: {type(exc).__name__}: {str(exc).strip()[:200]}")
                conn.close()
                conn = reader_connection(wh)
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if n != expected[relation][0]:
                    wrong.append(f"{relation}: {n} rows, expected {expected[relation][0]}")
            stop.wait(READER_PAUSE_S)
        conn.close()

    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(LOAD_READERS)]
    for t in threads:
        t.start()
    start = time.monotonic()
    log_path = tmp_path / "load_build.log"
    proc = start_build(wh, log_path)
    waits: Counter[str] = Counter()
    try:
        # every 10 s the build's sessions are sampled, so a build that does not finish says where it stood
        while time.monotonic() - start < LOAD_BUILD_TIMEOUT_S:
            try:
                proc.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                waits.update(what for what, _ in build_sessions(wh))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        timed_out = proc.poll() is None
        stuck = build_sessions(wh) if timed_out else []
        if timed_out:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    duration = time.monotonic() - start
    assert not timed_out, (
        f"the build did not finish in {LOAD_BUILD_TIMEOUT_S} s beside {LOAD_READERS} readers; its sessions then: "
        f"{stuck}; most sampled waits: {waits.most_common(10)}; "
        f"log tail: {log_path.read_text()[-1500:]}"
    )
    assert proc.returncode == 0, log_path.read_text()[-3000:]
    assert "Published" in log_path.read_text()

    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
    result = {
        "readers": LOAD_READERS,
        "learners": LEARNERS,
        "build_seconds": round(duration, 1),
        "queries": len(latencies),
        "errors": len(errors),
        "wrong_row_counts": len(wrong),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "relations": relations,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load_test.json").write_text(json.dumps(result | {"error_samples": errors[:20]}, indent=2))
    print(
        f"\nload test: {LOAD_READERS} readers, {len(latencies):,} queries during a {duration:.0f} s build, "
        f"{len(errors)} errors, {len(wrong)} wrong row counts, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    return {"errors": errors, "wrong": wrong, "hashes": content_hashes(wh, relations)}


def test_two_builds_give_identical_published_marts(baseline, build_under_load):
    relations, first = baseline
    second = build_under_load["hashes"]
    differing = [r for r in relations if second[r] != first[r]]
    assert not differing, f"marts differ between two builds of the same data: {differing}"


def test_readers_never_error_during_a_build(build_under_load):
    """No reader of a published mart errs or sees a row count other than the last good build's
    while the next build runs and publishes."""
    assert not build_under_load["errors"], build_under_load["errors"][:10]
    assert not build_under_load["wrong"], build_under_load["wrong"][:10]


# Where a SIGKILL can land, one try per kind of boundary: while a mart's table is being created,
# while a data test runs, while the incremental events model deletes and re-inserts its lookback
# window, and inside the publish. Each is recognised by the build's own statement in
# pg_stat_activity (dbt prefixes every statement with a comment, hence the leading %).
KILL_POINTS = {
    "mid-model": "%create %table %audit\\_%\\_\\_dbt\\_tmp%",
    "mid-test": "%dbt\\_internal\\_test%",
    "mid-incremental-merge": "%delete from %base\\_player\\_\\_events%",
    "mid-publish": "%\\_\\_publishing%",
}
KILL_ATTEMPTS = 3  # builds per kill point until its statement is caught running


def kill_when_running(wh, proc: subprocess.Popen, pattern: str, *, hold: str | None = None) -> bool:
    """SIGKILL the build's process group as soon as one of its sessions runs a statement matching
    pattern; False if the build ended first. With hold, another session keeps that table locked in
    SHARE mode until the kill, so a write to it (the incremental merge) waits, visibly running,
    instead of finishing between two polls."""
    with db.connect(wh.env, autocommit=True) as watcher, db.connect(wh.env) as holder:
        if hold:
            holder.execute(f"lock table {hold} in share mode")
        while proc.poll() is None:
            running = watcher.execute(
                "select exists (select from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and state = 'active' and query like %s)",
                (pattern,),
            ).fetchone()[0]
            if running:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.002)
        holder.rollback()
    return False


@pytest.mark.slow
def test_sigkill_at_each_kind_of_boundary_never_leaves_consumers_without_a_good_mart(
    reliability_warehouse, baseline, tmp_path
):
    wh = reliability_warehouse
    relations, good = baseline
    outcomes = []
    for point, pattern in KILL_POINTS.items():
        hold = "staging.base_player__events" if point == "mid-incremental-merge" else None
        for attempt in range(1, KILL_ATTEMPTS + 1):
            log = tmp_path / f"killed_{point}_{attempt}.log"
            started = time.monotonic()
            proc = start_build(wh, log)
            hit = kill_when_running(wh, proc, pattern, hold=hold)
            at = time.monotonic() - started
            terminated = wait_for_orphan_backends(wh)
            seen = content_hashes(wh, relations)
            bad = {r: (seen[r], good[r]) for r in relations if seen[r] != good[r]}
            last_line = (log.read_text().strip().splitlines() or [""])[-1][-120:]
            assert not bad, f"{point} kill (after {at:.1f} s, at: {last_line!r}): consumers see {bad}"
            if hit:
                outcomes.append((point, attempt, round(at, 1), terminated, last_line))
                break
        else:
            pytest.fail(f"no build of {KILL_ATTEMPTS} ran a {point} statement ({pattern}) long enough to be killed")
    # a kill inside the publish lands before the build logs "Published", which it does at the end
    assert "Published" not in (tmp_path / f"killed_mid-publish_{outcomes[-1][1]}.log").read_text()
    print("\nSIGKILL fault test, one kill per kind of boundary, all clean:")
    for point, attempt, at, terminated, last_line in outcomes:
        print(f"  {point:22} build {attempt}, killed at {at:6.1f} s ({terminated} orphan sessions ended): {last_line}")

    # the next build recovers: passes, publishes, same contents, nothing half-made left behind
    result = wh.dbt("build")
    assert "Published" in result.stdout
    assert content_hashes(wh, relations) == good
    leftovers = wh.query(
        "select schemaname || '.' || tablename from pg_tables where tablename like '%%\\_\\_publishing' "
        "or tablename like '%%\\_\\_retired'"
    )
    assert not leftovers, leftovers
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fault_test.json").write_text(
        json.dumps(
            {
                "kills": [
                    {"boundary": point, "build": attempt, "killed_at_s": at, "orphan_sessions_terminated": t,
                     "last_log_line": line}
                    for point, attempt, at, t, line in outcomes
                ],
                "recovered": True,
            },
            indent=2,
        )
    )
