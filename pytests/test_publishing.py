"""Publishing (macros/publish/publish_marts.sql, docs/operations.md): what consumers see when a
reader holds a lock, a source does not reconcile, a mart fails in any way, or the build is killed
while it publishes.

One small warehouse serves every test; each test puts back what it changed. The builds select the
core product (dim_learners v1 and v2, dim_courses, fct_course_progress), plus skills where a
second product is needed, so they stay short.
"""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest
from conftest import build_warehouse, project_copy, published_relations

from lpdata import contracts, db

READER_ROLE = "platform_reader"
CORE = "+path:models/marts/core"
SKILLS = "+path:models/marts/skills"
NOT_PUBLISHED = "NOT published (consumers keep the last good version): "
# dbt_project.yml: publish_lock_timeout_ms
LOCK_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def wh():
    return build_warehouse("publishing", learners=300)


def reader_connection(wh, **kwargs) -> psycopg.Connection:
    conn = db.connect(wh.env, **kwargs)
    conn.execute(f"set role {READER_ROLE}")
    return conn


def content(wh, relations: list[str]) -> dict[str, tuple | None]:
    """Row count and md5 of the rows (in text order) of each relation, read as the consumers' role."""
    with reader_connection(wh, autocommit=True) as conn:
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


def products(wh) -> dict[str, list[str]]:
    """Consumer schema -> the relations consumers read in it."""
    out: dict[str, list[str]] = {}
    for relation in published_relations(wh.artifact("manifest.json")):
        out.setdefault(relation.split(".")[0], []).append(relation)
    return out


def log_lines(stdout: str, prefix: str) -> list[str]:
    """The lines of a dbt log that start (after the timestamp) with prefix, without the timestamp."""
    lines = []
    for line in stdout.splitlines():
        text = re.sub(r"^(\x1b\[[0-9;]*m)?\d\d:\d\d:\d\d\s+", "", line)
        if text.startswith(prefix):
            lines.append(text[len(prefix) :])
    return lines


def not_published(stdout: str) -> dict[str, str]:
    """consumer relation -> its reason, from the NOT published lines of a build."""
    out = {}
    for line in log_lines(stdout, NOT_PUBLISHED):
        relation, _, reason = line.partition(" ")
        out[relation] = reason
    return out


def summary(stdout: str) -> str:
    (line,) = log_lines(stdout, "Publish summary: ")
    return line


def downstream_marts(wh, source: str) -> set[str]:
    """Consumer relations (<schema>.<alias>) of the marts built on a source, directly or not."""
    manifest = wh.artifact("manifest.json")
    parents = {uid: node.get("depends_on", {}).get("nodes", []) for uid, node in manifest["nodes"].items()}
    out = set()
    for node in contracts.public_models(manifest):
        seen, queue = set(), list(node["depends_on"]["nodes"])
        while queue:
            uid = queue.pop()
            if uid not in seen:
                seen.add(uid)
                queue.extend(parents.get(uid, []))
        if source in seen:
            out.add(f'{node["config"]["meta"]["publish_schema"]}.{node["alias"]}')
    return out


def core_marts(wh) -> set[str]:
    return {
        f'{node["config"]["meta"]["publish_schema"]}.{node["alias"]}'
        for node in contracts.public_models(wh.artifact("manifest.json"))
        if node["config"]["meta"]["publish_schema"] == "core"
    }


def test_a_reader_idle_in_transaction_delays_no_reader_beyond_the_lock_timeout(wh):
    """A consumer reads core.dim_courses and leaves its transaction open. The build cannot lock core:
    it retries, then names every core mart NOT published (lock, with the session holding it) and
    exits non-zero; meanwhile a second reader of core never waits longer than the lock timeout,
    and consumers keep the last good version. Once the consumer lets go, the next build publishes."""
    relations = products(wh)["core"]
    good = content(wh, relations)
    with wh.connect() as conn:
        conn.execute(
            "update raw.courses set title = title || ' (renamed)' "
            "where course_id = (select min(course_id) from raw.courses)"
        )
    stuck = reader_connection(wh)
    stuck.execute("select count(*) from core.dim_courses").fetchone()  # and stays idle in transaction

    waits: list[tuple[float, str]] = []
    stop = threading.Event()

    def second_reader() -> None:
        with reader_connection(wh, autocommit=True) as conn:
            while not stop.is_set():
                for relation in relations:
                    started = time.perf_counter()
                    conn.execute(f"select count(*) from {relation}").fetchone()
                    waits.append((time.perf_counter() - started, relation))
                time.sleep(0.005)

    thread = threading.Thread(target=second_reader, daemon=True)
    thread.start()
    try:
        result = wh.dbt("build", "--select", CORE, check=False)
    finally:
        stop.set()
        thread.join(timeout=30)
    try:
        assert content(wh, relations) == good
        assert result.returncode != 0
        held = not_published(result.stdout)
        assert set(held) == core_marts(wh), result.stdout[-3000:]
        pid = stuck.info.backend_pid
        for reason in held.values():
            assert reason.startswith('(lock: could not lock "core".'), reason
            assert f"held by pid {pid} (" in reason and "idle in transaction" in reason, reason
        assert summary(result.stdout) == f"published 0, held {len(held)}, skipped 0"
        assert "NOT published, its consumers hold a lock" in result.stdout
        longest = max(waits)
        # the second reader did queue behind the publisher, and never longer than its lock timeout
        assert longest[0] > LOCK_TIMEOUT_S / 2, longest
        assert longest[0] < LOCK_TIMEOUT_S + 0.5, longest
    finally:
        stuck.close()

    result = wh.dbt("build", "--select", CORE)
    assert not not_published(result.stdout)
    assert summary(result.stdout) == f"published {len(core_marts(wh))}, held 0, skipped 0"
    renamed = content(wh, relations)
    assert renamed["core.dim_courses_v1"] != good["core.dim_courses_v1"]
    assert renamed["core.dim_learners_v2"] == good["core.dim_learners_v2"]
    with wh.connect() as conn:
        conn.execute("update raw.courses set title = replace(title, ' (renamed)', '')")
    wh.dbt("build", "--select", CORE)
    assert content(wh, relations) == good


def test_a_source_that_does_not_reconcile_holds_back_every_mart_built_on_it(wh):
    """An event deleted from raw after it was staged: raw.events does not reconcile. Every mart built
    on it is named NOT published with the failing test and the recovery command; the others are
    published; consumers keep the last good version of the held ones."""
    relations = products(wh)["core"]
    good = content(wh, relations)
    with wh.connect() as conn:
        conn.execute(
            "create table public.deleted_event as "
            "select * from raw.events where event_id = (select event_id from raw.events order by event_id limit 1)"
        )
        conn.execute("delete from raw.events where event_id = (select event_id from public.deleted_event)")
    try:
        result = wh.dbt("build", "--select", CORE, check=False)
    finally:
        with wh.connect() as conn:
            conn.execute("insert into raw.events select * from public.deleted_event")
            conn.execute("drop table public.deleted_event")
    assert result.returncode != 0
    on_events = downstream_marts(wh, "source.learning_platform.player.events") & core_marts(wh)
    assert on_events and on_events != core_marts(wh)
    held = not_published(result.stdout)
    assert set(held) == on_events, result.stdout[-3000:]
    for reason in held.values():
        assert reason == (
            "(skipped: source raw.events does not reconcile: reconcile_raw_events fail, "
            "rebuild with lp rebuild -s base_player__events)"
        ), reason
    published = core_marts(wh) - on_events
    assert summary(result.stdout) == f"published {len(published)}, held 0, skipped {len(on_events)}"
    assert content(wh, relations) == good

    # raw holds the event again: it reconciles, everything is published
    result = wh.dbt("build", "--select", CORE)
    assert summary(result.stdout) == f"published {len(core_marts(wh))}, held 0, skipped 0"


def test_every_mart_not_published_is_named_with_its_reason(wh, tmp_path):
    """In one build of core and skills: dim_learners v2 errors (a division by zero planted in a copy of
    the project), so v1, built on it, is skipped and fct_course_progress's relationships test to it
    does not run; two courses share a slug, so a test of dim_courses fails. Each is named with its
    reason, skills is published, and the summary counts them."""
    relations = products(wh)["core"]
    good = content(wh, relations)
    copy = project_copy(tmp_path / "project")
    mart = copy / "models" / "marts" / "core" / "dim_learners_v2.sql"
    text = mart.read_text()
    assert text.count("where not learners.is_deleted\n") == 1
    mart.write_text(
        text.replace(
            "where not learners.is_deleted\n",
            "where not learners.is_deleted and learners.learner_id / (learners.learner_id - learners.learner_id) > 0\n",
        )
    )
    with wh.connect() as conn:
        conn.execute(
            "insert into raw.courses (course_id, slug, title, domain, difficulty, launched_at, retired_at) "
            "select course_id + 100000, slug, title || ' (copy)', domain, difficulty, launched_at, null "
            "from raw.courses order by course_id limit 1"
        )
    try:
        result = wh.dbt("build", "--select", f"{CORE} {SKILLS}", check=False, project_dir=copy)
    finally:
        with wh.connect() as conn:
            conn.execute("delete from raw.courses where course_id > 100000")
    assert result.returncode != 0
    held = not_published(result.stdout)
    assert set(held) == core_marts(wh), result.stdout[-4000:]
    assert held["core.dim_learners_v2"].startswith("(mart error: "), held
    assert "division by zero" in held["core.dim_learners_v2"]
    assert held["core.dim_learners_v1"] == "(skipped: upstream failed: dim_learners.v2 error)"
    assert held["core.dim_courses_v1"].startswith("(test failed: "), held
    assert "slug" in held["core.dim_courses_v1"] and " fail" in held["core.dim_courses_v1"], held
    assert held["core.fct_course_progress_v1"].startswith("(test did not run: "), held
    assert (
        "relationships_fct_course_progress_v1_learner_id__learner_id__ref_dim_learners_ skipped"
        in held["core.fct_course_progress_v1"]
    ), held
    assert summary(result.stdout) == "published 1, held 3, skipped 1"
    assert "skills.learner_skill_benchmarks_v1" in log_lines(result.stdout, "Published 1 mart(s): ")[0]
    assert content(wh, relations) == good

    result = wh.dbt("build", "--select", CORE)
    assert summary(result.stdout) == f"published {len(core_marts(wh))}, held 0, skipped 0"
    assert content(wh, relations) == good
