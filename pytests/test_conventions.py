"""Project conventions, checked by maintained tools: dbt-bouncer (manifest) and dbt parse warnings."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from conftest import project_copy, run_lp

from lpdata import contracts
from lpdata.dbt import read_artifact, run_dbt
from lpdata.lint import BOUNCER_TARGET, PYTHON_PATHS, SQL_PATHS, run_bouncer


def test_dbt_bouncer_conventions_pass():
    # --warn-error: a parse warning fails the test (a documented macro argument that no longer
    # matches its definition, a doc entry for a macro that is gone, a deprecation)
    result = run_bouncer(warn_error=True, capture=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "All checks passed" in result.stdout


def test_sql_and_python_lint_clean():
    """`lp lint` on the project's SQL (sqlfluff) and Python (ruff); the conventions are the test above.
    The test command runs the lint as these two tests, beside the warehouse builds."""
    result = run_lp("lint", *SQL_PATHS, *PYTHON_PATHS)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]


def test_lint_checks_one_drafted_file_with_the_project_rules_and_fixes_it(tmp_path):
    """A data scientist drafting a query anywhere lints just that file with the project's rules
    (`lp lint <path>`), and `--fix` rewrites what sqlfluff can."""
    draft = tmp_path / "draft.sql"
    draft.write_text("SELECT learner_id, COUNT(*) AS n_events\nFROM {{ ref('stg_player__events') }}\nGROUP BY learner_id\n")

    def lp_lint(*args: str) -> subprocess.CompletedProcess:
        return run_lp("lint", *args, cwd=tmp_path)

    found = lp_lint("draft.sql")
    assert found.returncode != 0
    assert "CP01" in found.stdout and str(draft) in found.stdout  # capitalisation.keywords, only this file
    assert "lp lint --fix" in found.stderr

    fixed = lp_lint("--fix", "draft.sql")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert draft.read_text() == (  # lower case, one column per line (house style)
        "select\n    learner_id,\n    count(*) as n_events\nfrom {{ ref('stg_player__events') }}\ngroup by learner_id\n"
    )
    assert lp_lint("draft.sql").returncode == 0

    assert lp_lint("draft.yml").returncode == 2


def _commit_all(repo: Path) -> None:
    """A git repository of repo's files, all committed: the base `lp lint --changed` compares with."""
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_lint_changed_picks_the_edited_and_new_sql_and_python_files(tmp_path):
    """`lp lint --changed` lints what a contributor touched since the last commit: edited and new
    files of the linted folders, not deleted, ignored or other files."""
    from lpdata.lint import changed_files

    repo = tmp_path / "repo"
    for name in ("models/a.sql", "models/b.sql", "macros/m.sql", "src/x.py", "docs/d.sql", "README.md"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("select 1\n")
    (repo / ".gitignore").write_text("target/\n")
    _commit_all(repo)
    (repo / "models/a.sql").write_text("select 2\n")  # edited
    (repo / "models/b.sql").unlink()  # deleted
    (repo / "src/y.py").write_text("x = 1\n")  # new
    (repo / "docs/d.sql").write_text("select 2\n")  # edited, outside the linted folders
    (repo / "target").mkdir()
    (repo / "target/compiled.sql").write_text("select 3\n")  # ignored
    assert changed_files(repo) == [repo / "models/a.sql", repo / "src/y.py"]


def test_every_mart_description_says_how_to_read_it_and_its_key():
    """The docs site shows a mart's build relation (audit_<product>, which consumers cannot read);
    each public mart's description says what they do read, and its primary key, which the site
    does not show. Checked against the contract, so neither goes stale."""
    run_dbt(["parse"], {}, target_path=BOUNCER_TARGET, capture=True)
    manifest = read_artifact("manifest.json", BOUNCER_TARGET)
    stale = []
    for node in contracts.public_models(manifest):
        schema, name, key = node["config"]["meta"]["publish_schema"], node["name"], contracts.primary_key(node)
        expected = (
            f"Read it as `{schema}.{name}` (the latest version, v{node['latest_version']}) or by version as "
            f"`{schema}.{name}_v<N>`; primary key ({', '.join(key)})."
        )
        if expected not in " ".join(node["description"].split()):
            stale.append(f"{name} v{node['version']}: {expected}")
    assert not stale, "\n".join(stale)


def _words(text: str) -> str:
    """Text with its line wrapping undone (argparse wraps the help to the terminal's width)."""
    return " ".join(text.split())


def test_lint_leaves_what_sqlfluffignore_excludes_out_and_says_so_once(tmp_path):
    """The jinja templater cannot lint macro definitions, so .sqlfluffignore excludes them; given by
    name (`lp lint --changed` after a macro edit) sqlfluff warned "Exact file path ... was given but
    it was ignored" for each. lp leaves out what the project's .sqlfluffignore excludes (its
    patterns, here one more than the committed ones) and says which in one line; the help names them."""
    project = project_copy(tmp_path / "project")
    with (project / ".sqlfluffignore").open("a") as ignore:
        ignore.write("analyses/quarantine_report.sql\n")
    assert "not macros/, tests/generic/, analyses/quarantine_report.sql: .sqlfluffignore excludes them" in _words(
        run_lp("lint", "--help", project=project).stdout
    )
    _commit_all(project)
    with (project / "macros/round_score.sql").open("a") as macro:
        macro.write("{# edited #}\n")
    (project / "analyses/quarantine_report.sql").write_text("select 1 as one\n")
    (project / "tests/generic/new_test.sql").write_text("{% test new_test(model) %}select 1{% endtest %}\n")
    (project / "analyses/draft.sql").write_text("SELECT 1 AS one\n")

    found = run_lp("lint", "--changed", project=project)
    skipped = "analyses/quarantine_report.sql, macros/round_score.sql, tests/generic/new_test.sql"
    assert found.stdout.splitlines()[:2] == [
        f"linting 4 changed file(s): analyses/draft.sql, {skipped}",
        f"not linted, .sqlfluffignore excludes them: {skipped}",
    ]
    assert "Exact file path" not in found.stdout + found.stderr
    assert f"== [{project / 'analyses/draft.sql'}] FAIL" in found.stdout and "CP01" in found.stdout
    assert found.returncode != 0 and "sqlfluff found problems" in found.stderr

    (project / "analyses/draft.sql").unlink()
    rest = run_lp("lint", "--changed", project=project)
    assert rest.stdout.splitlines()[1:3] == [
        f"not linted, .sqlfluffignore excludes them: {skipped}",
        "nothing left to lint but the conventions",
    ]
    assert "Exact file path" not in rest.stdout + rest.stderr and "sqlfluff found" not in rest.stderr
    # the conventions still read the changed project: the new generic test has no description
    assert rest.returncode != 0 and "dbt-bouncer found convention problems" in rest.stderr
    assert "new_test" in rest.stdout


def test_lint_changed_runs_the_conventions_when_the_dbt_project_changed(tmp_path):
    """A model without its yml entry builds, lints and gets no key test, description or docs, and
    one reading now() builds too; `lp lint --changed` runs dbt-bouncer when a file of the dbt
    project changed, so the local loop reports both (before, only the test command did, or
    nothing), and says nothing to lint when nothing changed."""
    project = project_copy(tmp_path / "project")
    _commit_all(project)
    quiet = run_lp("lint", "--changed", project=project)
    assert quiet.returncode == 0 and "nothing to lint" in quiet.stdout and "bouncer" not in quiet.stdout

    segments = project / "models" / "intermediate" / "coaching" / "segments"
    sql = (segments / "int_coaching_segment_stalled.sql").read_text()
    (segments / "int_coaching_segment_stalled_twin.sql").write_text(sql.replace("{{ as_of() }}", "now()"))
    found = run_lp("lint", "--changed", project=project)
    assert found.returncode != 0
    assert "dbt-bouncer found convention problems" in found.stderr
    assert re.search(r"check_model_description_populated:\d+:int_coaching_segment_stalled_twin", found.stdout)
    # and "now" is as_of(), so that builds are reproducible
    assert re.search(r"check_model_code_does_not_contain_regexp_pattern:\d+:int_coaching_segment_stalled_twin", found.stdout)


def test_lint_runs_both_tools_and_reports_each_failure(tmp_path):
    """A sqlfluff failure must not return before ruff runs, hiding the Python findings (and fixes)."""
    (tmp_path / "draft.sql").write_text("SELECT 1 AS one\n")
    (tmp_path / "helper.py").write_text("import os\n")

    found = run_lp("lint", "draft.sql", "helper.py", cwd=tmp_path)
    assert found.returncode != 0
    assert "CP01" in found.stdout and "F401" in found.stdout
    assert "sqlfluff found problems" in found.stderr and "ruff found problems" in found.stderr

    # --fix: sqlfluff cannot parse the query, ruff still removes the unused import
    (tmp_path / "draft.sql").write_text("selec 1 frm\n")
    fixed = run_lp("lint", "--fix", "draft.sql", "helper.py", cwd=tmp_path)
    assert fixed.returncode != 0
    assert "sqlfluff found problems (fix the rest by hand)." in fixed.stderr and "ruff found" not in fixed.stderr
    assert (tmp_path / "helper.py").read_text() == ""


def test_a_model_reading_against_the_layers_fails_the_conventions(tmp_path):
    """Layers run one way: staging -> intermediate -> marts (dbt-bouncer's
    check_lineage_permitted_upstream_models). Three links that break them, put into a copy of the
    project: an intermediate reading a mart (the metric
    windows from experiment_assignments), a mart reading another mart (results from
    experiment_health) and a mart reading staging (learner_goals from the staged goals). Each fails
    the conventions, naming the model and the upstream model it may not read."""
    project = project_copy(tmp_path / "project")
    _commit_all(project)
    links = {
        "models/intermediate/experimentation/int_experiment_metric_windows.sql": (
            "int_experiment_assignments_classified", "experiment_assignments"
        ),
        "models/marts/experimentation/experiment_results_v1.sql": ("int_experiment_results", "experiment_health"),
        "models/marts/coaching/learner_goals_v1.sql": ("int_coaching_goals_active", "stg_coach__learner_goals"),
    }
    for path, (allowed, forbidden) in links.items():
        sql = project / path
        assert sql.read_text().count(f"ref('{allowed}')") == 1, path
        sql.write_text(sql.read_text().replace(f"ref('{allowed}')", f"ref('{forbidden}')"))

    found = run_lp("lint", "--changed", project=project)
    assert found.returncode != 0
    assert "dbt-bouncer found convention problems" in found.stderr
    # the table of failures without its borders and wrapping (a message spans several lines of its cell)
    table = re.sub(r"[│\s]+", "", found.stdout)
    for path, (_allowed, forbidden) in links.items():
        model = Path(path).stem
        assert re.search(rf"check_lineage_permitted_upstream_models:\d+:{model}\b", found.stdout), model
        # dbt-bouncer names a versioned upstream model by its latest version only ('v1', 'v2')
        upstream = {"experiment_assignments": "v1", "experiment_health": "v2"}.get(forbidden, forbidden)
        assert f"`{model}`referencesupstreammodelsthatarenotpermitted:['{upstream}']" in table, model
