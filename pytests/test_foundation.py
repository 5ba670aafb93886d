"""The foundation on real PostgreSQL: nothing dropped silently, no PII past staging, deleted
learners gone, contracts enforced in the database, core marts correct on planted cases."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from conftest import (
    ANCHOR,
    build_warehouse,
    cli_environ,
    machine_server,
    make_database,
    project_copy,
    run_lp,
    start_from_a_template_parse,
)

from lpdata import PROJECT_ROOT, contracts, db

SOURCES = [
    ("raw.learners", "stg_platform__learners"),
    ("raw.courses", "stg_platform__courses"),
    ("raw.course_items", "stg_platform__course_items"),
    ("raw.course_skills", "stg_platform__course_skills"),
    ("raw.enrollments", "stg_platform__enrollments"),
    ("raw.events", "stg_player__events"),
    ("raw.assessment_submissions", "stg_assessment__submissions"),
    ("raw.experiments", "stg_allocation__experiments"),
    ("raw.experiment_variants", "stg_allocation__experiment_variants"),
    ("raw.experiment_assignments", "stg_allocation__experiment_assignments"),
    ("raw.coaching_messages", "stg_coach__messages"),
    ("raw.coaching_interactions", "stg_coach__interactions"),
    ("raw.learner_goals", "stg_coach__learner_goals"),
    ("raw.recommendation_impressions", "stg_recommender__impressions"),
    ("raw.model_scores", "stg_recommender__model_scores"),
]

CONSUMER_SCHEMAS = ("core", "experimentation", "coaching", "recommendations", "skills")


@pytest.mark.parametrize(("raw_table", "staged"), SOURCES)
def test_every_raw_row_is_staged_or_quarantined(warehouse, raw_table, staged):
    n_raw = warehouse.scalar(f"select count(*) from {raw_table}")
    n_staged = warehouse.scalar(f"select count(*) from staging.{staged}")
    n_quarantined = warehouse.scalar(
        "select count(*) from staging.quarantined_rows where source_table = %s", (raw_table,)
    )
    assert n_raw > 0
    assert n_raw == n_staged + n_quarantined


@pytest.mark.parametrize(
    ("raw_table", "reason"),
    [
        ("raw.events", "duplicate_delivery"),
        ("raw.events", "unknown_event_type"),
        ("raw.events", "occurred_in_future"),
        ("raw.events", "before_signup"),
        ("raw.events", "orphan_learner"),
        ("raw.enrollments", "orphan_course"),
        ("raw.enrollments", "inconsistent_timestamps"),
        ("raw.assessment_submissions", "missing_value"),
        ("raw.assessment_submissions", "out_of_range"),
        ("raw.assessment_submissions", "duplicate_key"),
        ("raw.learners", "superseded"),
        ("raw.experiment_assignments", "duplicate_log_line"),
        ("raw.coaching_interactions", "orphan_message"),
        ("raw.coaching_interactions", "invalid_value"),
        ("raw.coaching_messages", "unknown_message_key"),
        ("raw.course_skills", "out_of_range"),
    ],
)
def test_planted_bad_rows_are_quarantined_with_their_reason(warehouse, raw_table, reason):
    n = warehouse.scalar(
        "select count(*) from staging.quarantined_rows where source_table = %s and quarantine_reason = %s",
        (raw_table, reason),
    )
    assert n > 0, f"no {reason} rows quarantined from {raw_table}"


def test_duplicate_deliveries_keep_exactly_one_copy(warehouse):
    dup_ids = warehouse.scalar(
        "select count(*) from (select event_id from raw.events group by event_id having count(*) > 1) as d"
    )
    assert dup_ids > 0
    assert warehouse.scalar(
        "select count(*) from (select event_id from staging.stg_player__events group by event_id having count(*) > 1) as d"
    ) == 0


def test_no_pii_column_past_staging(warehouse):
    rows = warehouse.query(
        """
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema not in ('raw', 'staging', 'pg_catalog', 'information_schema')
          and column_name in ('email', 'full_name')
        """
    )
    assert rows == []


def test_no_email_address_in_any_mart_text_column(warehouse):
    """Free text may hold PII; only learner_goals.goal_text may carry it (the learner's own surface)."""
    columns = warehouse.query(
        """
        select table_schema, table_name, column_name from information_schema.columns
        where table_schema = any(%s) and data_type in ('text', 'character varying', 'character')
        """,
        (list(CONSUMER_SCHEMAS),),
    )
    offenders = []
    for schema, table, column in columns:
        if table.startswith("learner_goals") and column == "goal_text":
            continue
        n = warehouse.scalar(f'select count(*) from {schema}."{table}" where "{column}" ~ %s', (r"[^@\s]+@[^@\s]+\.",))
        if n:
            offenders.append(f"{schema}.{table}.{column}")
    assert offenders == []


def test_deleted_learners_vanish_from_every_mart(warehouse):
    deleted = warehouse.scalar("select count(*) from raw.learners where is_deleted")
    assert deleted > 0
    tables = warehouse.query(
        """
        select c.table_schema, c.table_name from information_schema.columns as c
        join information_schema.tables as t using (table_schema, table_name)
        where c.table_schema = any(%s) and c.column_name = 'learner_id' and t.table_type = 'BASE TABLE'
        """,
        (list(CONSUMER_SCHEMAS),),
    )
    assert tables
    for schema, table in tables:
        n = warehouse.scalar(
            f'select count(*) from {schema}."{table}" as m '
            "where m.learner_id in (select learner_id from raw.learners where is_deleted)"
        )
        assert n == 0, f"{schema}.{table} holds deleted learners"


def test_dim_learners_counts_reconcile_with_raw(warehouse):
    expected = warehouse.scalar(
        """
        select count(*) from (
            select distinct on (learner_id) learner_id, is_deleted, country_code from raw.learners
            order by learner_id, updated_at desc
        ) as latest
        where not is_deleted and (country_code is null or upper(country_code) ~ '^[A-Z]{2}$')
        """
    )
    assert warehouse.scalar(f"select count(*) from {warehouse.mart('dim_learners')}") == expected


def test_contract_constraints_exist_in_the_database(warehouse):
    """Enforced contracts are real constraints on the published tables, not just documentation."""
    pk = warehouse.query(
        """
        select tc.table_schema, tc.table_name from information_schema.table_constraints as tc
        where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = 'core'
        """
    )
    assert {t for _, t in pk} >= {"dim_learners_v1", "dim_courses_v1", "fct_course_progress_v1"}
    with warehouse.connect() as conn, pytest.raises(Exception, match="violates check constraint"):
        conn.execute(f"insert into {warehouse.mart('dim_courses')} select * from {warehouse.mart('dim_courses')} limit 0")
        conn.execute(
            f"""insert into {warehouse.mart('dim_courses')}
            (course_id, slug, title, domain, difficulty, launched_at, is_retired, n_items, n_graded_items, skills,
             skill_names)
            values (-1, 'x', 'x', 'x', 'impossible', now(), false, 1, 0, '{{}}', '{{}}')"""
        )


def test_course_progress_matches_an_independent_computation(warehouse):
    """items_completed recomputed from raw events with pandas-free SQL on raw tables."""
    mismatches = warehouse.scalar(
        f"""
        with clean_events as (
            select distinct on (event_id) * from raw.events order by event_id, received_at
        ),
        done as (
            select e.learner_id, i.course_id, count(distinct e.item_id) as n
            from clean_events as e join raw.course_items as i on i.item_id = e.item_id
            where e.event_type = 'item_complete'
              and e.occurred_at <= e.received_at + interval '24 hours'
              and e.learner_id in (select learner_id from raw.learners)
              and e.occurred_at >= (select min(signed_up_at) from raw.learners as l where l.learner_id = e.learner_id) - interval '24 hours'
            group by 1, 2
        )
        select count(*) from {warehouse.mart('fct_course_progress')} as p
        left join done on done.learner_id = p.learner_id and done.course_id = p.course_id
        where p.items_completed <> coalesce(done.n, 0)
        """
    )
    assert mismatches == 0
    assert warehouse.scalar(f"select count(*) from {warehouse.mart('fct_course_progress')} where completed_at is not null") > 0


def test_course_skills_come_with_their_names_in_the_same_order(warehouse):
    """dim_courses.skill_names[i] names skills[i] (the skills catalogue is not published)."""
    names = dict(warehouse.query("select skill_id, skill_name from reference.skills"))
    rows = warehouse.query(f"select skills, skill_names from {warehouse.mart('dim_courses')}")
    assert rows and any(skills for skills, _ in rows)
    for skills, skill_names in rows:
        assert skill_names == [names[s] for s in skills]


def _freshness(wh) -> dict[str, str]:
    """`dbt source freshness` on a warehouse: source name -> status (pass, warn, error)."""
    wh.dbt("source", "freshness", check=False)
    return {r["unique_id"].split(".", 2)[2]: r["status"] for r in wh.artifact("sources.json")["results"]}


def test_source_freshness_passes_on_a_fresh_landing_and_catches_a_stalled_feed():
    """The main job checks source freshness against the wall clock: data landed up to today passes
    on every source whatever the hour (learners submit by day, so the freshest submission is hours
    before midnight: 17:17 here; a quiet allocation engine between enrolment phases is not stale);
    two days without an event batch is an error on player.events alone."""
    wh = build_warehouse("freshness", learners=300, anchor=dt.datetime.now(dt.timezone.utc).date(), build=False)

    fresh = _freshness(wh)
    assert len(fresh) == 10, fresh
    assert set(fresh.values()) == {"pass"}, fresh

    with wh.connect() as conn:
        conn.execute("delete from raw.events where received_at > now() - interval '2 days 1 hour'")
    stalled = _freshness(wh)
    assert stalled.pop("player.events") == "error"
    assert set(stalled.values()) == {"pass"}, stalled


def _view_state(wh, name: str) -> tuple:
    """What a view is: its definition, its comments and its grants."""
    return wh.query(
        """
        select pg_get_viewdef(c.oid),
               obj_description(c.oid, 'pg_class'),
               array(select col_description(c.oid, a.attnum) from pg_attribute a
                     where a.attrelid = c.oid and a.attnum > 0 order by a.attnum),
               c.relacl::text
        from pg_class c where c.oid = to_regclass(%s)
        """,
        (name,),
    )[0]


def test_a_partial_build_keeps_the_views_it_did_not_select(warehouse):
    """dbt drops a rebuilt relation's old copy with CASCADE, and with it every view reading it: a
    partial build would drop staging.quarantined_rows and then fail the reconciliation test on it.
    The views it did not select come back as they were (definition, comments, grants), a view of
    someone else's included."""
    # its own target path: the partial builds must not replace the artifacts of the full build,
    # which other tests read
    wh = warehouse.in_target(f"{warehouse.target_path}_partial")
    with wh.connect() as conn:
        conn.execute("create view staging.adhoc_course_count as select count(*) as n from staging.base_platform__courses")
        conn.execute("comment on view staging.adhoc_course_count is 'an analyst''s view'")
        conn.execute("grant select on staging.adhoc_course_count to platform_reader")
    try:
        views = ["staging.quarantined_rows", "staging.stg_platform__courses", "staging.adhoc_course_count"]
        before = {v: _view_state(wh, v) for v in views}
        n_quarantined = wh.scalar("select count(*) from staging.quarantined_rows")

        # docs generate runs on-run-start but not on-run-end: it must leave no record behind
        wh.dbt("docs", "generate")
        assert wh.scalar("select count(*) from analytics.dbt_dependent_views") == 0

        # the base table alone: its stg_ view, the quarantine and the analyst's view are not selected
        out = wh.dbt("build", "--select", "base_platform__courses").stdout
        assert {v: _view_state(wh, v) for v in views} == before
        for view in views:
            line = f"View {view} (not selected; reads the rebuilt staging.base_platform__courses), dropped by the rebuild: recreated"
            assert line in out, out[-3000:]

        # the local loop of CONTRIBUTING.md, with dbt's default (eager) test selection: the
        # reconciliation test reads the quarantine, which the build does not select
        out = wh.dbt("build", "--select", "+dim_courses", "--indirect-selection", "eager").stdout
        assert "reconcile_raw_courses" in out and "ERROR=0" in out
        assert {v: _view_state(wh, v) for v in views} == before
        assert wh.scalar("select count(*) from staging.quarantined_rows") == n_quarantined
        assert wh.scalar("select count(*) from analytics.dbt_dependent_views") == 0
    finally:
        with wh.connect() as conn:
            conn.execute("drop view if exists staging.adhoc_course_count")


def test_an_unreachable_server_is_one_clear_error_not_a_traceback():
    result = run_lp("dbt", "build", pg={"PGHOST": "127.0.0.1", "PGPORT": "1", "PGPASSWORD": "not-printed"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot connect to PostgreSQL (host=127.0.0.1 port=1 ")
    assert len(result.stderr.splitlines()) == 1
    assert "check the server and the PG* variables" in result.stderr
    assert "Traceback" not in result.stderr and "not-printed" not in result.stderr


def test_a_build_on_a_database_without_raw_data_says_to_load_it_first():
    env = make_database(f"lp_test_empty_{os.getpid()}")
    result = run_lp("dbt", "build", "--select", "stg_platform__courses", pg=env)
    assert result.returncode != 0
    assert f"database {env['PGDATABASE']} has no raw schema" in result.stderr
    assert "`lp generate`" in result.stderr


@pytest.mark.parametrize("server", ["selected", "machine"])
def test_lp_db_up_names_the_servers_version_as_people_write_it(server):
    """`lp db up` printed server_version_num ("PostgreSQL 180004 ready"); it prints the release
    (18.4, 15.20), without what a packager appends to server_version ("15.20 (Debian ...)")."""
    pg = machine_server() if server == "machine" else None
    result = run_lp("db", "up", pg=pg)  # first: it creates the database (a fresh clone has none)
    assert result.returncode == 0, result.stderr
    env = db.pg_env(cli_environ(pg))
    with db.connect(env) as conn:
        release = conn.execute("show server_version").fetchone()[0].split()[0]
    assert result.stdout == f"PostgreSQL {release} ready: {db.conninfo(env)}\n"
    assert re.fullmatch(r"\d+\.\d+", release)


@pytest.mark.parametrize(
    ("command", "lines"),
    [
        ("db", [r"up\s+start the embedded PostgreSQL", r"down\s+stop the embedded PostgreSQL"]),
        (
            "contracts",
            [
                r"check\s+compare the public marts' contracts",
                r"snapshot\s+rewrite contracts/public_contracts.json",
                r"test\s+datacontract test of the committed ODCS contracts",
            ],
        ),
        ("dbt", [r"Run dbt on the selected warehouse .* DBT_INDIRECT_SELECTION=buildable .* PGOPTIONS .*work_mem="]),
    ],
)
def test_the_help_of_a_command_says_what_each_action_does(command, lines):
    """`lp db -h` and `lp contracts -h` listed {up,down} and {check,snapshot} and nothing more; `lp dbt -h`
    said nothing of the environment it sets, which makes a partial build differ from plain dbt's."""
    result = run_lp(command, "-h")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for line in lines:
        assert re.search(line, text), result.stdout


def test_lp_test_no_lint_runs_pytest_alone_with_the_given_arguments(tmp_path):
    """`lp test -- <pytest args>` linted the whole project first (about a minute) before every run of
    a few tests; `--no-lint` runs pytest alone."""
    (tmp_path / "test_tiny.py").write_text("def test_selected():\n    pass\n\n\ndef test_other():\n    pass\n")
    result = run_lp("test", "--no-lint", "--", str(tmp_path), "-k", "selected", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 deselected" in result.stdout
    assert "All Finished" not in result.stdout and "All checks passed" not in result.stdout  # neither sqlfluff nor ruff


def test_lp_env_gives_a_shell_where_the_project_tools_and_psql_reach_the_warehouse(warehouse):
    """`eval "$(lp env)"`, as the README's working-by-hand loop: dbt and sqlfluff are the project's,
    psql and dbt read the same warehouse, and partial builds select their tests as `lp dbt` does."""
    environ = cli_environ(warehouse.env)
    environ["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # a login shell: the venv not activated
    script = (
        f'eval "$({sys.executable} -m lpdata.cli env)"; '
        "command -v dbt; command -v sqlfluff; echo $DBT_INDIRECT_SELECTION; "
        'psql -Atc "select count(*) from raw.learners"'
    )
    result = subprocess.run(["bash", "-c", script], cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    dbt_path, sqlfluff_path, selection, n_learners = result.stdout.split()
    venv_bin = str(Path(sys.executable).parent)
    assert dbt_path == f"{venv_bin}/dbt" and sqlfluff_path == f"{venv_bin}/sqlfluff"
    assert selection == "buildable"
    assert int(n_learners) == warehouse.scalar("select count(*) from raw.learners") > 0


@pytest.mark.slow
def test_the_main_job_runs_on_the_machines_postgresql_server(tmp_path):
    """The README's "use a real server instead": the whole main job (`lp run`, as
    `PGHOST=127.0.0.1 ... make run` runs it) on the machine's server, PostgreSQL 15 on the
    development and CI machines (the oldest supported: no erf()), where every other warehouse of
    the suite is on the embedded 18. Run in a copy of the project, so that its docs site, Data
    Docs and dbt artifacts are the copy's."""
    pg = machine_server(f"lp_test_main_job_{os.getpid()}")
    project = project_copy(tmp_path / "project")
    start_from_a_template_parse(project / "target", pg, project)
    environ = cli_environ(pg) | {"PYTHONPATH": str(project / "src")}
    environ.pop("DBT_TARGET_PATH", None)
    result = subprocess.run(
        [sys.executable, "-m", "lpdata.cli", "run", "--learners", "600", "--anchor", ANCHOR.isoformat()],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "quality checks passed" in result.stdout
    assert f"Warehouse: host=127.0.0.1 port=5432 user=postgres dbname={pg['PGDATABASE']}" in result.stdout
    assert f"==> dbt build (as_of {ANCHOR.isoformat()}T00:00:00+00:00)" in result.stdout
    assert (project / "target" / "static_index.html").stat().st_size > 1_000_000
    assert (project / "artifacts" / "quality" / "data_docs" / "index.html").exists()

    manifest = json.loads((project / "target" / "manifest.json").read_text())
    published = contracts.contracts_from_manifest(manifest)
    marts = sorted(mart["relation"] for mart in published.values())
    with psycopg.connect(db.conninfo(pg)) as conn:
        version = conn.execute("show server_version").fetchone()[0]
        conn.execute("set role platform_reader")
        empty = [m for m in marts if not conn.execute(f"select exists (select from {m})").fetchone()[0]]
        # the build's "now" is the anchor the data ends at (var as_of), not the wall clock's months later
        active = conn.execute(f"select avg(is_active_30d::int) from {published['dim_learners.v2']['relation']}").fetchone()[0]
    print(f"\nmain job on PostgreSQL {version} at 127.0.0.1:5432: {len(marts)} mart versions published, none empty")
    assert len(marts) == 19 and not empty, empty
    assert active > 0.2
