"""Publishing (macros/publish/publish_marts.sql, docs/operations.md): what consumers see when a
reader holds a lock, a source does not reconcile, a mart fails in any way, or the build is killed
while it publishes.

One small warehouse serves every test; each test puts back what it changed. The builds select the
core product (dim_learners v1 and v2, dim_courses, fct_course_progress), plus skills where a
second product is needed, so they stay short.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from conftest import build_warehouse, project_copy, published_marts, published_relations

from lpdata import PROJECT_ROOT, contracts, db
from lpdata.dbt import dbt_invocation

READER_ROLE = "platform_reader"
CORE = "+path:models/marts/core"
SKILLS = "+path:models/marts/skills"
NOT_PUBLISHED = "NOT published (consumers keep the last good version): "
# dbt_project.yml: publish_lock_timeout_ms
LOCK_TIMEOUT_S = 1.0
KILL_TRIES = 3
KILL_SEED = 20261204
STAMP_LEARNER = 980000


@pytest.fixture(scope="module")
def wh():
    return build_warehouse("publishing", learners=600)


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


def test_publishing_moves_each_mart_as_built_instead_of_copying_it(wh):
    """Every published version is the table its model's build wrote: its rows carry the model's
    transaction, not the publish transaction that renamed the table into place (a copy would
    carry that one). It is logged, named with its key, and its audit name is a view on it."""
    audit = published_marts(wh.artifact("manifest.json"))
    assert audit
    for relation in sorted(audit):
        rows_xmin, renamed_xmin, persistence, key = wh.query(
            f"""
            select (select min(xmin::text::bigint) from {relation}), c.xmin::text::bigint, c.relpersistence,
                   (select i.indexrelid::regclass::text from pg_index as i where i.indrelid = c.oid and i.indisprimary)
            from pg_class as c where c.oid = %s::regclass
            """,
            (relation,),
        )[0]
        assert rows_xmin is not None and rows_xmin != renamed_xmin, relation
        assert persistence == "p", relation
        assert key == f"{relation}_pkey", relation
        (reads,) = wh.query(
            """
            select array_agg(distinct d.refobjid::regclass::text) from pg_depend as d
            join pg_rewrite as r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
            where r.ev_class = %s::regclass and d.refobjid <> r.ev_class
            """,
            (audit[relation],),
        )[0]
        assert reads == [relation], audit[relation]


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


def plant(path: Path, anchor: str, replacement: str) -> None:
    text = path.read_text()
    assert text.count(anchor) == 1, f"{anchor!r} not found once in {path}"
    path.write_text(text.replace(anchor, replacement))


def test_every_mart_not_published_is_named_with_its_reason(wh, tmp_path):
    """In one build of core and skills, in a copy of the project with two planted divisions by zero:
    dim_learners v2 errors, so fct_course_progress's relationships test to it does not run; the
    intermediate skills reads errors, so learner_skill_benchmarks is skipped; two courses share a
    slug, so a test of dim_courses fails. Each is named with its reason, dim_learners v1 (built
    beside v2, not on it) is published, and the summary counts them."""
    relations = products(wh)["core"] + products(wh)["skills"]
    good = content(wh, relations)
    copy = project_copy(tmp_path / "project")
    plant(
        copy / "models" / "marts" / "core" / "dim_learners_v2.sql",
        "    from learners\n",
        "    from learners\n    where learner_id / (learner_id - learner_id) > 0\n",
    )
    plant(
        copy / "models" / "intermediate" / "skills" / "int_learner_skills_evidenced.sql",
        "        not learners.is_deleted\n",
        "        not learners.is_deleted and learners.learner_id / (learners.learner_id - learners.learner_id) > 0\n",
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
    expected = (core_marts(wh) - {"core.dim_learners_v1"}) | {"skills.learner_skill_benchmarks_v1"}
    assert set(held) == expected, result.stdout[-4000:]
    assert held["core.dim_learners_v2"].startswith("(mart error: Database Error in model dim_learners "), held
    assert "division by zero" in held["core.dim_learners_v2"]
    assert held["skills.learner_skill_benchmarks_v1"] == "(skipped: upstream failed: int_learner_skills_evidenced error)"
    assert held["core.dim_courses_v1"].startswith("(test failed: "), held
    assert "slug" in held["core.dim_courses_v1"] and " fail" in held["core.dim_courses_v1"], held
    assert held["core.fct_course_progress_v1"].startswith("(test did not run: "), held
    assert (
        "relationships_fct_course_progress_v1_learner_id__learner_id__ref_dim_learners_ skipped"
        in held["core.fct_course_progress_v1"]
    ), held
    assert summary(result.stdout) == "published 1, held 3, skipped 1"
    assert log_lines(result.stdout, "Published 1 mart(s): ") == ["core.dim_learners_v1"]
    assert {r: h for r, h in content(wh, relations).items() if r != "core.dim_learners_v1"} == {
        r: h for r, h in good.items() if r != "core.dim_learners_v1"
    }

    result = wh.dbt("build", "--select", f"{CORE} {SKILLS}")
    assert summary(result.stdout) == f"published {len(core_marts(wh)) + 1}, held 0, skipped 0"
    assert content(wh, relations) == good


def start_build(wh, select: str, log_path: Path) -> subprocess.Popen:
    """`dbt build --select <select>` in its own process group (so the whole group can be killed)."""
    cmd, env = dbt_invocation(wh.dbt_args("build", "--select", select), wh.env, target_path=wh.target_path)
    return subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_for_publishing(wh, proc: subprocess.Popen) -> bool:
    """Until a session of the build runs a publish statement (every one names <mart>__publishing)."""
    with db.connect(wh.env, autocommit=True) as conn:
        while proc.poll() is None:
            if conn.execute(
                "select exists (select from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and state = 'active' and query like %s)",
                ("%\\_\\_publishing%",),
            ).fetchone()[0]:
                return True
            time.sleep(0.005)
    return False


def wait_for_orphan_backends(wh, timeout: float = 120.0) -> None:
    """A killed client's sessions finish their statement, then end."""
    deadline = time.monotonic() + timeout
    with db.connect(wh.env, autocommit=True) as conn:
        query = "select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
        while time.monotonic() < deadline and conn.execute(query).fetchone()[0]:
            time.sleep(0.1)


def audit_relation(wh) -> dict[str, str]:
    """Consumer relation -> the audit relation the build wrote it from: each version's
    (published_marts), and the latest version's for the unversioned view."""
    manifest = wh.artifact("manifest.json")
    out = published_marts(manifest)
    for node in contracts.public_models(manifest):
        if node.get("version") is not None and str(node["version"]) == str(node.get("latest_version")):
            out[f'{node["config"]["meta"]["publish_schema"]}.{node["name"]}'] = f'{node["schema"]}.{node["alias"]}'
    return out


def audit_content(wh, relations: list[str]) -> dict[str, tuple]:
    with wh.connect() as conn:
        return {
            relation: tuple(
                conn.execute(
                    "select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                    f"from {relation} as t"
                ).fetchone()
            )
            for relation in relations
        }


def stamps(wh) -> dict[str, int | None]:
    """The newest learner planted by the kill test in each relation of core built on learners."""
    with reader_connection(wh, autocommit=True) as conn:
        return {
            relation: conn.execute(
                f"select max(learner_id) from {relation} where learner_id >= {STAMP_LEARNER}"
            ).fetchone()[0]
            for relation in ("core.dim_learners", "core.dim_learners_v1", "core.dim_learners_v2", "core.fct_course_progress_v1")
        }


def test_a_build_killed_while_publishing_never_mixes_two_builds_within_a_product(wh, tmp_path):
    """Before each try a new learner and an enrolment are planted (the build stamp: every core mart
    but dim_courses carries it). A consumer reading skills in an open transaction holds the
    publisher after core; the build of core and skills is killed (SIGKILL, whole process group)
    once a publish statement is seen: the first time as soon as a core relation shows the new build,
    then at random points around the moment the consumer lets go. Every product then shows, for every
    relation that differs between the two builds, either all the last good versions or all the new
    ones, readable by consumers; the next build publishes everything and leaves nothing behind."""
    rng = random.Random(KILL_SEED)
    schemas = products(wh)
    relations = schemas["core"] + schemas["skills"]
    audit = audit_relation(wh)
    course = wh.scalar("select min(course_id) from staging.stg_platform__courses where not is_retired")
    outcomes = []
    for k in range(1, KILL_TRIES + 1):
        before = content(wh, relations)
        (stamp_before,) = set(stamps(wh).values())
        learner = STAMP_LEARNER + k
        with wh.connect() as conn:
            conn.execute(
                "insert into raw.learners select %s, 'stamp' || %s || '@example.com', full_name, country_code, "
                "occupation, timestamptz '2026-06-20', timestamptz '2026-06-20', false "
                "from raw.learners where not is_deleted and country_code is not null order by learner_id limit 1",
                (learner, learner),
            )
            conn.execute(
                "insert into raw.enrollments values (%s, %s, %s, timestamptz '2026-06-21', null, 'search')",
                (98000000 + learner, learner, course),
            )
        log = tmp_path / f"killed_{k}.log"
        # publishing moves tables in milliseconds: a consumer reading skills in an open transaction
        # holds the publisher (within its lock budget) where the test can see it, after core
        blocker = reader_connection(wh)
        blocker.execute("select count(*) from skills.learner_skill_benchmarks")
        proc = start_build(wh, f"{CORE} {SKILLS}", log)
        try:
            assert wait_for_publishing(wh, proc), log.read_text()[-3000:]
            if k == 1:
                # the moment the first core relation shows the new build: were core published mart
                # by mart, the others would still be old
                while proc.poll() is None and learner not in stamps(wh).values():
                    time.sleep(0.01)
            else:
                time.sleep(rng.uniform(0.0, 0.3))
                blocker.rollback()  # skills may now be published; the kill lands before, during or after
                time.sleep(rng.uniform(0.0, 0.3))
            finished = proc.poll() is not None
            if not finished:
                os.killpg(proc.pid, signal.SIGKILL)
        finally:
            blocker.close()
        proc.wait()
        wait_for_orphan_backends(wh)

        seen = content(wh, relations)
        built = audit_content(wh, sorted({audit[r] for r in relations}))
        after = {r: built[audit[r]] for r in relations}
        sides = {}
        for schema in ("core", "skills"):
            changed = [r for r in schemas[schema] if before[r] != after[r]]
            sides[schema] = {
                r: "old" if seen[r] == before[r] else "new" if seen[r] == after[r] else f"neither: {seen[r]}"
                for r in changed
            }
            assert len(set(sides[schema].values())) <= 1, f"try {k}: {schema} mixes two builds: {sides[schema]}"
        stamped = stamps(wh)
        assert len(set(stamped.values())) == 1, f"try {k}: core mixes two builds: {stamped}"
        assert stamped["core.dim_learners"] in (stamp_before, learner), stamped
        assert len(sides["core"]) >= 3, sides  # the stamp changed every core mart built on learners
        outcomes.append((k, finished, {s: set(v.values()) for s, v in sides.items()}, stamped["core.dim_learners"]))
    print(f"\nkills during publishing: {outcomes}")
    assert not all(finished for _, finished, _, _ in outcomes)

    result = wh.dbt("build", "--select", f"{CORE} {SKILLS}")
    assert summary(result.stdout) == f"published {len(core_marts(wh)) + 1}, held 0, skipped 0"
    assert set(stamps(wh).values()) == {STAMP_LEARNER + KILL_TRIES}
    assert not wh.query(
        "select schemaname || '.' || tablename from pg_tables where tablename like '%%\\_\\_publishing' "
        "or tablename like '%%\\_\\_retired'"
    )
