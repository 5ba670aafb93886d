"""The synthetic data generator: determinism, messy cases, planted SRM, daily append.

Needs a PostgreSQL server selected by the libpq variables (PGHOST, PGPORT, PGUSER, ...), e.g.
``PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres``; each test module works in its own throwaway
database ``gen_test_<pid>``.
"""

from __future__ import annotations

import datetime as dt
import os

import psycopg
import pytest
from psycopg import sql

from lpdata import db
from lpdata.generate import TRUTHS, append_days, course_clusters, generate
from lpdata.generate.schema import ORDER

ANCHOR = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def env():
    base = db.pg_env()
    name = f"gen_test_{os.getpid()}"
    db.ensure_database(base, name, recreate=True)
    yield {**base, "PGDATABASE": name}
    with psycopg.connect(db.conninfo(base, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def fingerprints(env, where: dict[str, str] | None = None) -> dict[str, str]:
    """md5 of every raw table's rows in a canonical order."""
    where = where or {}
    out = {}
    with db.connect(env) as conn:
        for table in ORDER:
            cond = where.get(table, "true")
            out[table] = conn.execute(
                f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from raw.{table} t where {cond}"
            ).fetchone()[0]
    return out


def scalar(env, query: str):
    with db.connect(env) as conn:
        return conn.execute(query).fetchone()[0]


def test_same_seed_same_tables_other_seed_differs(env):
    first = generate(env, learners=300, seed=7, anchor=ANCHOR, progress=False)
    fp1 = fingerprints(env)
    second = generate(env, learners=300, seed=7, anchor=ANCHOR, progress=False)
    assert first == second
    assert fingerprints(env) == fp1
    generate(env, learners=300, seed=8, anchor=ANCHOR, progress=False)
    fp3 = fingerprints(env)
    assert fp3["events"] != fp1["events"]
    assert fp3["learners"] != fp1["learners"]


def test_a_small_catalogue(env):
    """--courses 12 (lp bench's small catalogue): every course has many learners, each external
    model's batch scores a course at most once per learner, and the default catalogue is unchanged."""
    counts = generate(env, learners=300, seed=42, anchor=ANCHOR, progress=False, courses=12)
    assert counts["courses"] == 12
    assert scalar(env, "select count(distinct course_id) from raw.enrollments where course_id <= 12") == 12
    assert scalar(env, "select count(*) from raw.enrollments where course_id > 12 and course_id < 1000") == 0
    assert counts["model_scores"] > 0 and counts["events"] > 0
    assert scalar(
        env, "select count(*) - count(distinct (model_name, batch_id, learner_id, course_id)) from raw.model_scores"
    ) == 0
    assert generate(env, learners=300, seed=42, anchor=ANCHOR, progress=False)["courses"] == 40


@pytest.fixture(scope="module")
def generated(env):
    counts = generate(env, learners=2000, seed=42, anchor=ANCHOR, progress=False)
    return env, counts


def test_every_table_has_rows_and_the_spec_types(generated):
    env, counts = generated
    assert set(counts) == set(ORDER)
    assert all(n > 0 for n in counts.values()), counts
    types = {
        ("events", "event_id"): "uuid",
        ("events", "properties"): "jsonb",
        ("events", "received_at"): "timestamp with time zone",
        ("learners", "country_code"): "character",
        ("learners", "learner_id"): "bigint",
        ("course_skills", "weight"): "numeric",
        ("course_skills", "skill_id"): "integer",
        ("learner_goals", "target_date"): "date",
        ("model_scores", "score"): "double precision",
        ("assessment_submissions", "score"): "numeric",
    }
    with db.connect(env) as conn:
        for (table, column), expected in types.items():
            got = conn.execute(
                "select data_type from information_schema.columns where table_schema = 'raw' and table_name = %s and column_name = %s",
                (table, column),
            ).fetchone()[0]
            assert got == expected, (table, column)
        indexed = {r[0] for r in conn.execute("select indexdef from pg_indexes where schemaname = 'raw'")}
        assert any("(received_at)" in d for d in indexed) and any("(event_id)" in d for d in indexed)


MESSY = {
    "duplicate event_id": "select count(*) from (select event_id from raw.events group by 1 having count(*) > 1) d",
    "late arrival": "select count(*) from raw.events where received_at - occurred_at between interval '1 day' and interval '10 days'",
    "future client clock": "select count(*) from raw.events where occurred_at > received_at + interval '1 day'",
    "occurred before sign-up": """select count(*) from raw.events e join raw.learners l using (learner_id)
                                  where e.occurred_at < l.signed_up_at""",
    "unknown event_type": """select count(*) from raw.events
                             where event_type not in ('course_view', 'item_start', 'item_complete', 'search', 'session_start')""",
    "orphan learner in events": "select count(*) from raw.events e where not exists (select from raw.learners l where l.learner_id = e.learner_id)",
    "orphan learner in enrollments": """select count(*) from raw.enrollments e
                                        where not exists (select from raw.learners l where l.learner_id = e.learner_id)""",
    "orphan learner in submissions": """select count(*) from raw.assessment_submissions s
                                        where not exists (select from raw.learners l where l.learner_id = s.learner_id)""",
    "orphan course in enrollments": """select count(*) from raw.enrollments e
                                       where not exists (select from raw.courses c where c.course_id = e.course_id)""",
    "score null": "select count(*) from raw.assessment_submissions where score is null",
    "score out of range": "select count(*) from raw.assessment_submissions where score < 0 or score > 1",
    "duplicate submission_id": "select count(*) from (select submission_id from raw.assessment_submissions group by 1 having count(*) > 1) d",
    "stale duplicate learner row": "select count(*) from (select learner_id from raw.learners group by 1 having count(*) > 1) d",
    "deleted learner": "select count(*) from raw.learners where is_deleted",
    "duplicate assignment line": """select count(*) from (select experiment_key, variant_key, learner_id, assigned_at
                                    from raw.experiment_assignments group by 1, 2, 3, 4 having count(*) > 1) d""",
    "contaminated learner": """select count(*) from (select experiment_key, learner_id from raw.experiment_assignments
                               group by 1, 2 having count(distinct variant_key) > 1) d""",
    "orphan message_id": """select count(*) from raw.coaching_interactions i
                            where not exists (select from raw.coaching_messages m where m.message_id = i.message_id)""",
    "unknown interaction": """select count(*) from raw.coaching_interactions
                              where interaction not in ('viewed', 'clicked', 'dismissed', 'rated_helpful', 'rated_unhelpful')""",
    "unknown message_key": f"select count(*) from raw.coaching_messages where message_key = '{TRUTHS['unknown_message_key']}'",
    "unenrolled before enrolled": "select count(*) from raw.enrollments where unenrolled_at < enrolled_at",
    "course_skills weight out of range": "select count(*) from raw.course_skills where weight <= 0 or weight > 1",
    "country_code null": "select count(*) from raw.learners where country_code is null",
    "e-mail in goal_text": r"select count(*) from raw.learner_goals where goal_text ~ '[^ ]+@[^ ]+\.[a-z]+'",
    "retired course": "select count(*) from raw.courses where retired_at is not null",
    "re-enrolment": "select count(*) from (select learner_id, course_id from raw.enrollments group by 1, 2 having count(*) > 1) d",
    "goal due within 7 days of the anchor": f"select count(*) from raw.learner_goals where target_date between '{ANCHOR}' and date '{ANCHOR}' + 6",
}


@pytest.mark.parametrize("case", list(MESSY))
def test_messy_case_present(generated, case):
    env, _ = generated
    assert scalar(env, MESSY[case]) > 0, case


def test_shares_roughly_as_documented(generated):
    env, counts = generated
    events = counts["events"]
    dup = scalar(env, MESSY["duplicate event_id"])
    assert 0.005 < dup / events < 0.02
    assert 0.03 < scalar(env, MESSY["country_code null"]) / counts["learners"] < 0.08
    never = scalar(env, "select count(*) from raw.learners l where not exists (select from raw.enrollments e where e.learner_id = l.learner_id)")
    assert 0.10 < never / counts["learners"] < 0.22
    assert scalar(env, "select max(received_at) from raw.events") <= dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)


def test_srm_experiment_logged_60_40(generated):
    env, _ = generated
    key = TRUTHS["srm_experiment"]
    with db.connect(env) as conn:
        rows = dict(conn.execute(
            """select variant_key, count(distinct learner_id) from raw.experiment_assignments
               where experiment_key = %s group by 1""", (key,)).fetchall())
    share = rows["control"] / sum(rows.values())
    assert abs(share - 0.6) < 0.05, rows
    assert TRUTHS["planned_weights"][key] == {"control": 0.5, "banner": 0.5}


def test_catalogue_agrees_with_seeds_and_truths(generated):
    env, _ = generated
    keys = {r[0] for r in db.connect(env).execute("select distinct message_key from raw.coaching_messages")}
    assert TRUTHS["paused_message_key"] in keys
    paused = scalar(env, f"select count(*) from raw.coaching_messages where message_key = '{TRUTHS['paused_message_key']}'")
    other = scalar(env, "select count(*) from raw.coaching_messages where message_key = 'nudge_pick_up'")
    assert paused > 2 * other
    assert scalar(env, "select count(*) - count(distinct slug) from raw.courses") == 0
    batches = {r[0] for r in db.connect(env).execute("select distinct batch_id from raw.model_scores")}
    assert batches == set(TRUTHS["model_batches"])
    clusters = course_clusters(2000, 42)
    assert len(clusters) == scalar(env, "select count(*) from raw.courses")


def test_append_days_only_adds_after_the_watermark(generated):
    env, _ = generated
    before_max = scalar(env, "select max(received_at) from raw.events")
    cond = f"received_at <= '{before_max.isoformat()}'"
    old = fingerprints(env, {"events": cond})
    added = append_days(env, days=1, seed=42, progress=False)
    assert added["events"] > 0
    assert scalar(env, f"select min(received_at) from raw.events where received_at > '{before_max.isoformat()}'") > before_max
    assert scalar(env, f"select count(*) from raw.events where {cond}") == scalar(env, "select count(*) from raw.events") - added["events"]
    new = fingerprints(env, {"events": cond})
    for table in ("events", "courses", "course_items", "course_skills", "experiments", "experiment_assignments", "model_scores", "learner_goals"):
        assert new[table] == old[table], table
    assert scalar(env, "select count(*) from raw.events where event_type = 'item_complete'") > 0
