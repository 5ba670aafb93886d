"""Project conventions, checked by maintained tools: dbt-bouncer (manifest) and dbt parse warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import run_lp

from lpdata import PROJECT_ROOT
from lpdata.dbt import dbt_env, read_artifact, run_dbt


def test_dbt_bouncer_conventions_pass():
    # --warn-error: a parse warning fails the test (a documented macro argument that no longer
    # matches its definition, a doc entry for a macro that is gone, a deprecation)
    run_dbt(["--warn-error", "parse"], {}, target_path="target_bouncer", capture=True)
    env = dbt_env({}, {"DBT_TARGET_PATH": "target_bouncer"})
    bouncer = Path(sys.executable).with_name("dbt-bouncer")
    result = subprocess.run(
        [str(bouncer), "--config-file", "dbt-bouncer.yml"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "All checks passed" in result.stdout


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


def test_lint_changed_picks_the_edited_and_new_sql_and_python_files(tmp_path):
    """`lp lint --changed` lints what a contributor touched since the last commit: edited and new
    files of the linted folders, not deleted, ignored or other files."""
    from lpdata.cli import changed_files

    repo = tmp_path / "repo"
    for name in ("models/a.sql", "models/b.sql", "macros/m.sql", "src/x.py", "docs/d.sql", "README.md"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("select 1\n")
    (repo / ".gitignore").write_text("target/\n")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
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
    run_dbt(["parse"], {}, target_path="target_bouncer", capture=True)
    manifest = read_artifact("manifest.json", "target_bouncer")
    stale = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("access") != "public":
            continue
        schema, name = node["config"]["meta"]["publish_schema"], node["name"]
        key = next(c["columns"] for c in node["constraints"] if c["type"] == "primary_key")
        expected = (
            f"Read it as `{schema}.{name}` (the latest version, v{node['latest_version']}) or by version as "
            f"`{schema}.{name}_v<N>`; primary key ({', '.join(key)})."
        )
        if expected not in " ".join(node["description"].split()):
            stale.append(f"{name} v{node['version']}: {expected}")
    assert not stale, "\n".join(stale)
