"""The `lp` command line as people run it: the installed `lp` executable of this environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import (
    MACHINE_SERVER,
    build_warehouse,
    cli_environ,
    machine_server,
    make_database,
    project_copy,
    retarget_saved_parse,
)

from lpdata import PROJECT_ROOT, db

LP = Path(sys.executable).with_name("lp")


def lp(
    *args: str, pg: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The installed `lp` with this process's environment (pg's libpq variables instead, when given;
    plus extra)."""
    environ = cli_environ(pg) | (extra or {})
    return subprocess.run([str(LP), *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["run", "--learners", "-5"], "--learners", "-5 is not positive"),
        (["run", "--learners", "0"], "--learners", "0 is not positive"),
        (["run", "--learners", "abc"], "--learners", "'abc' is not a whole number"),
        (["run", "--anchor", "2026-13-01"], "--anchor", "'2026-13-01' is not a date: use YYYY-MM-DD"),
        (["bench", "--learners", "-1"], "--learners", "-1 is not positive"),
        (["bench", "--anchor", "tomorrow"], "--anchor", "'tomorrow' is not a date"),
        (["bench", "--threads", "0"], "--threads", "0 is not positive"),
        (["generate", "--learners", "1e3"], "--learners", "'1e3' is not a whole number"),
        (["generate", "--append-days", "-2"], "--append-days", "-2 is not positive"),
        (["generate", "--anchor", "30/06/2026"], "--anchor", "'30/06/2026' is not a date"),
    ],
)
def test_a_bad_number_or_date_is_one_line_in_argparse_style_not_a_traceback(args, option, says):
    """`lp run --learners -5` printed a traceback from the generator; every number and date an lp
    command takes is checked by argparse, before any database or data is touched."""
    result = lp(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"lp {args[0]}: error: argument {option}")
    assert says in line and line.endswith(f"(see `lp {args[0]} -h`)")


def test_the_generators_own_entry_point_checks_its_arguments_the_same_way():
    result = subprocess.run(
        [sys.executable, "-m", "lpdata.generate", "--learners", "0"], capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("python -m lpdata.generate: error: argument --learners: 0 is not positive")


UNREACHABLE = {"PGHOST": "127.0.0.1", "PGPORT": "1", "PGUSER": "someone", "PGPASSWORD": "not-printed", "PGDATABASE": "wh"}


@pytest.mark.parametrize(
    "args",
    [
        ["contracts", "test"],
        ["run", "--learners", "100"],
        ["generate", "--learners", "100"],
        ["bench", "--learners", "100"],
        ["report"],
        ["env"],
        ["db", "up"],
        ["dbt", "build"],
    ],
)
def test_a_server_that_cannot_be_reached_is_one_line_naming_it(args):
    """`lp contracts test` printed 84 lines of datacontract's log per contract before the error; any
    lp command that cannot connect says so in one line naming the server (never the password)."""
    result = lp(*args, pg=UNREACHABLE)
    assert result.returncode == 1
    assert "synthetic data" not in result.stdout  # the main job stops at its first step
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cannot connect to PostgreSQL (host=127.0.0.1 port=1 user=someone database=wh): ")
    assert "Connection refused" in line and "check the server and the PG* variables" in line
    assert "not-printed" not in result.stdout + result.stderr


def test_a_role_the_server_refuses_is_one_line_with_the_servers_reason():
    """A wrong role (or password) on a running server: libpq's reason, in one line."""
    server = machine_server()
    pg = server | {"PGUSER": "no_such_role_lp", "PGPASSWORD": "wrong", "PGDATABASE": "postgres"}
    result = lp("contracts", "test", pg=pg)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: cannot connect to PostgreSQL (host=127.0.0.1 port=5432 user=no_such_role_lp database=postgres)")
    assert 'role "no_such_role_lp" does not exist' in line
    assert result.stdout == ""


def test_lp_rebuild_restores_a_source_that_no_longer_reconciles():
    """Rows deleted from raw after the incremental base model staged them: the source's reconciliation
    fails and names `lp rebuild -s <base model>`; that command rebuilds the model from raw and what is
    built on it, with the as_of of the warehouse's last build, publishing as usual, and the
    reconciliation passes again."""
    wh = build_warehouse("rebuild", learners=600)
    with wh.connect() as conn:
        deleted = conn.execute(
            "delete from raw.model_scores where ctid in (select ctid from raw.model_scores limit 5)"
        ).rowcount
    assert deleted == 5
    failing = wh.dbt("test", "--select", "reconcile_raw_model_scores", check=False)
    assert failing.returncode != 0
    (row,) = wh.stored_failures(failing, "reconcile_raw_model_scores")
    assert "lp rebuild -s base_recommender__model_scores" in row[-1]

    pg = wh.env | {"DBT_TARGET_PATH": wh.target_path}
    result = lp("rebuild", "-s", "base_recommender__model_scores", pg=pg)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "--full-refresh --select base_recommender__model_scores+" in result.stdout
    assert wh.vars["as_of"] in result.stdout  # the vars of the last build
    rebuilt = next(line for line in result.stdout.splitlines() if line.startswith("rebuilt "))
    assert "base_recommender__model_scores" in rebuilt and "stg_recommender__model_scores" in rebuilt
    assert "stg_player__events" not in rebuilt  # not built on model scores

    assert wh.dbt("test", "--select", "reconcile_raw_model_scores").returncode == 0
    assert wh.scalar("select count(*) from staging.base_recommender__model_scores") == wh.scalar(
        "select count(*) from raw.model_scores"
    )


def test_lp_rebuild_of_an_unknown_model_is_one_line():
    result = lp("rebuild", "-s", "base_player__event")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("lp rebuild: error: no model named base_player__event")


def test_lp_db_down_stops_the_embedded_server_that_lp_env_selected():
    """`eval "$(lp env)"` exports PG* pointing at the embedded server; `lp db down` then refused
    ("PG* variables point at an external server"). It recognises its own server by the socket
    directory, and still leaves a really external server alone."""
    pgdata = Path(tempfile.mkdtemp(prefix="lp_pg_"))  # short: a socket path has at most 107 bytes
    own = {"LP_PGDATA": str(pgdata)}
    try:
        up = lp("db", "up", pg={}, extra=own)
        assert up.returncode == 0, up.stderr
        assert (pgdata / "postmaster.pid").exists()
        environ = cli_environ({}) | own
        down = subprocess.run(
            ["bash", "-c", f'eval "$({LP} env)" && echo "PGHOST=$PGHOST" && {LP} db down'],
            cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300,
        )
        assert down.returncode == 0, down.stderr
        assert f"PGHOST={pgdata}" in down.stdout
        assert down.stdout.endswith("stopped\n"), down.stdout
        assert not (pgdata / "postmaster.pid").exists()
    finally:
        if (pgdata / "postmaster.pid").exists():
            lp("db", "down", pg={}, extra=own)
        shutil.rmtree(pgdata, ignore_errors=True)
    external = lp("db", "down", pg=MACHINE_SERVER, extra=own)
    assert external.stdout == "PG* variables point at an external server; nothing to stop.\n"


def test_lp_check_catches_a_contract_error_on_empty_tables_without_touching_the_warehouse(tmp_path):
    """A mart whose SQL no longer returns a contracted column: `lp check` fails on it in a scratch
    database of empty landing tables, before any data is read, and says how long it took; the
    warehouse's own database is not touched."""
    project = project_copy(tmp_path / "project")
    mart = project / "models" / "marts" / "core" / "dim_courses_v1.sql"
    sql = mart.read_text()
    assert sql.count("        difficulty,\n") == 1
    mart.write_text(sql.replace("        difficulty,\n", ""))
    warehouse = make_database(f"lp_test_check_{os.getpid()}")
    scratch = warehouse | {"PGDATABASE": f"{warehouse['PGDATABASE']}_check"}
    try:
        result = lp("check", "--", "--select", "+dim_courses", pg=warehouse, cwd=project,
                    extra={"PYTHONPATH": str(project / "src")})
        assert result.returncode != 0
        out = result.stdout
        assert "This model has an enforced contract that failed" in out, out[-4000:]
        assert "difficulty" in out.split("This model has an enforced contract that failed", 1)[1][:2000]
        last = out.strip().splitlines()[-1]
        assert last.startswith("schema-only check FAILED in ") and f"database {scratch['PGDATABASE']}" in last
        with db.connect(scratch) as conn:  # the landing tables were there, empty
            assert conn.execute("select count(*) from raw.events").fetchone()[0] == 0
        with db.connect(warehouse) as conn:  # nothing built in the warehouse's own database
            assert conn.execute("select count(*) from pg_namespace where nspname = 'raw'").fetchone()[0] == 0
    finally:
        db.drop_database(scratch)


def test_lp_ci_builds_a_changed_metric_and_its_children_only_after_the_contracts_gate(tmp_path):
    """Slim CI: one experiment metric's SQL changed since the main build; `lp ci --state <its target>`
    runs the breaking-change gate, then builds that metric and what is built on it, deferring every
    unchanged parent to the main build's relations."""
    wh = build_warehouse("ci", learners=600)
    state = tmp_path / "state"
    state.mkdir()
    for name in ("manifest.json", "run_results.json"):
        shutil.copy(PROJECT_ROOT / wh.target_path / name, state / name)
    project = project_copy(tmp_path / "project")
    # as after an earlier `lp ci` in this checkout: its parse starts from the main build's
    retarget_saved_parse(PROJECT_ROOT / wh.target_path, project / "target_ci", wh.env, wh.env, project_dir=project)
    metric = project / "models" / "intermediate" / "experimentation" / "metrics" / "metric_enrollments.sql"
    sql = metric.read_text()
    assert sql.count(" then 1 end) as pre_value") == 1
    metric.write_text(sql.replace(" then 1 end) as pre_value", " then 1 end) + 0 as pre_value"))

    result = lp("ci", "--state", str(state), pg=wh.env, cwd=project, extra={"PYTHONPATH": str(project / "src")})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    out = result.stdout
    assert out.index("==> breaking-change gate") < out.index("public contracts match") < out.index("state:modified+")
    assert wh.vars["as_of"] in out

    manifest = json.loads((state / "manifest.json").read_text())
    children, todo = set(), ["model.learning_platform.metric_enrollments"]
    while todo:
        node = todo.pop()
        for child in manifest["child_map"][node]:
            if child.startswith("model.") and child not in children:
                children.add(child)
                todo.append(child)
    results = json.loads((project / "target_ci" / "run_results.json").read_text())["results"]
    built = {r["unique_id"] for r in results if r["unique_id"].startswith("model.")}
    assert built == {"model.learning_platform.metric_enrollments", *children}
    failed = [r["unique_id"] for r in results if r["status"] not in {"success", "pass", "warn"} and "exposure." not in r["unique_id"]]
    assert not failed, failed
    assert "model.learning_platform.int_experiment_metric_windows" not in built  # an unchanged parent: deferred
    assert any(name.startswith("model.learning_platform.experiment_results") for name in built)


def test_a_parse_that_fails_on_a_stale_saved_manifest_is_done_again_from_scratch(tmp_path):
    """dbt's partial parsing can keep a definition its file no longer holds: after a model is renamed
    and its unit test moves to another yml, it raised "Unable to find model ... for unit test ..."
    from the old file. lp then removes the saved manifest and parses again from scratch."""
    from lpdata.dbt import read_artifact, run_dbt

    project = project_copy(tmp_path / "project")
    target = str(project / "target")
    run_dbt(["parse"], {}, target_path=target, capture=True, project_dir=project)
    assert (project / "target" / "partial_parse.msgpack").exists()

    # int_reco_lists becomes int_reco_ranked_lists, and one of its unit tests moves to the marts' yml
    reco = project / "models" / "intermediate" / "recommendations"
    (reco / "int_reco_lists.sql").rename(reco / "int_reco_ranked_lists.sql")
    for path in project.glob("models/**/*.sql"):
        if "int_reco_lists" in path.read_text():
            path.write_text(path.read_text().replace("int_reco_lists", "int_reco_ranked_lists"))
    intermediate_yml = reco / "_recommendations__models.yml"
    text = intermediate_yml.read_text().replace("int_reco_lists", "int_reco_ranked_lists")
    moved = text[text.index("  - name: reco_lists_all_candidates_excluded"):]  # the file's last block
    intermediate_yml.write_text(text.replace(moved, ""))
    marts_yml = project / "models" / "marts" / "recommendations" / "_recommendations__models.yml"
    marts_yml.write_text(marts_yml.read_text().rstrip() + "\n\nunit_tests:\n" + moved)

    result = run_dbt(["parse"], {}, target_path=target, capture=True, project_dir=project)
    assert "partial parse failed on its saved manifest" in result.stdout
    manifest = read_artifact("manifest.json", target)
    unit_test = manifest["unit_tests"]["unit_test.learning_platform.int_reco_ranked_lists.reco_lists_all_candidates_excluded"]
    assert unit_test["original_file_path"].startswith("models/marts/")
