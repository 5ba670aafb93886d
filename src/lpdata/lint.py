"""`lp lint`: sqlfluff on the SQL, ruff on the Python, dbt-bouncer's conventions on the dbt project;
the whole project, given files or folders, or what changed since the last commit (--changed)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pathspec

from . import PROJECT_ROOT
from .dbt import dbt_env, run_dbt

SQL_PATHS = ["models", "tests", "macros", "analyses"]
PYTHON_PATHS = ["src", "pytests", "benchmarks"]


def changed_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """The project's SQL and Python files that differ from the last commit, or that git does not
    track yet (and does not ignore); deleted ones are not listed."""
    def git(*args: str) -> list[str]:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout
        return out.splitlines()

    names = git("diff", "--name-only", "--diff-filter=d", "HEAD") + git("ls-files", "--others", "--exclude-standard")
    roots = {".sql": SQL_PATHS, ".py": PYTHON_PATHS}
    return sorted(
        {
            root / name
            for name in names
            if Path(name).suffix in roots and Path(name).parts[0] in roots[Path(name).suffix]
        }
    )


# what dbt-bouncer reads (the manifest): a change to any of these can break a convention
DBT_PROJECT_PATHS = (
    "models/", "seeds/", "tests/", "macros/", "analyses/", "snapshots/",
    "dbt_project.yml", "dbt-bouncer.yml", "packages.yml", "dependencies.yml",
)


def dbt_project_changed(root: Path = PROJECT_ROOT) -> bool:
    """Whether a file of the dbt project (SQL, yml, seeds; DBT_PROJECT_PATHS) differs from the last
    commit or is new to git."""
    names = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", *DBT_PROJECT_PATHS],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout
    return bool(names.strip())


BOUNCER_TARGET = "target_bouncer"


def run_bouncer(*, warn_error: bool = False, capture: bool = False) -> subprocess.CompletedProcess:
    """dbt-bouncer on a fresh parse (no database needed): the project's conventions
    (dbt-bouncer.yml), e.g. a new model without its yml entry, description, key test or owner,
    which neither sqlfluff nor `dbt build` reports. warn_error: a parse warning fails too. A parse
    that fails is returned as it is (its output captured)."""
    parsed = run_dbt(
        [*(["--warn-error"] if warn_error else []), "parse"], {}, target_path=BOUNCER_TARGET, capture=True, check=False
    )
    if parsed.returncode != 0:
        return parsed
    bouncer = Path(sys.executable).with_name("dbt-bouncer")
    return subprocess.run(
        [str(bouncer) if bouncer.exists() else "dbt-bouncer", "--config-file", "dbt-bouncer.yml"],
        cwd=PROJECT_ROOT,
        # rich draws its table of failed checks to the terminal's width, 80 columns when not a
        # terminal, which cut the check names and hid the messages
        env=dbt_env({}, {"DBT_TARGET_PATH": BOUNCER_TARGET, "COLUMNS": os.environ.get("COLUMNS", "200")}),
        capture_output=capture,
        text=True,
    )


def sqlfluff_ignores(root: Path = PROJECT_ROOT) -> list[str]:
    """The patterns of the project's .sqlfluffignore (gitignore syntax), none if it has no such file."""
    path = root / ".sqlfluffignore"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def sqlfluff_ignored(paths: list[Path], root: Path = PROJECT_ROOT) -> list[Path]:
    """The paths (files or folders) of the project that its .sqlfluffignore excludes. sqlfluff
    skips them itself, but warns about each file given by name ("Exact file path ... was given but
    it was ignored"), so lp leaves them out and says so once."""
    spec = pathspec.PathSpec.from_lines("gitwildmatch", sqlfluff_ignores(root))
    return [
        p
        for p in paths
        if p.is_relative_to(root) and spec.match_file(p.relative_to(root).as_posix() + ("/" if p.is_dir() else ""))
    ]


def _shown(paths: list[Path]) -> str:
    """Paths for a message: relative to the project when inside it."""
    return ", ".join(str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(PROJECT_ROOT) else str(p) for p in paths)


def _sqlfluff(paths: list[str], fix: bool) -> int:
    # the project's config also for a file outside it (a scratch query, a model being drafted)
    # sqlfluff's worker pool (.sqlfluff: processes) often ends with a harmless "leaked semaphore"
    # warning of Python's resource tracker (sqlfluff issue 4080): not a finding, so not shown
    warnings = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), "ignore:resource_tracker:UserWarning"]))
    # sqlfluff itself, with each macro file compiled once per process rather than once per linted
    # file (lpdata/sqlfluff_cached.py): the same findings in a third of the CPU
    return subprocess.call(
        [sys.executable, "-m", "lpdata.sqlfluff_cached", "fix" if fix else "lint", "--config",
         str(PROJECT_ROOT / ".sqlfluff"), *paths],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONWARNINGS": warnings},
    )


def _ruff(paths: list[str], fix: bool) -> int:
    return subprocess.call([sys.executable, "-m", "ruff", "check", *(["--fix"] if fix else []), *paths], cwd=PROJECT_ROOT)


def lint_help() -> str:
    """What `lp lint` lints, from SQL_PATHS and .sqlfluffignore, so that the help stays true when either changes."""
    skipped = [pattern for pattern in sqlfluff_ignores() if pattern.split("/")[0] in SQL_PATHS]
    linted = [folder for folder in SQL_PATHS if folder not in {pattern.rstrip("/") for pattern in skipped}]
    return (
        f"sqlfluff on the SQL of {', '.join(linted)} (not {', '.join(skipped)}: .sqlfluffignore excludes them); "
        f"ruff on the Python of {', '.join(PYTHON_PATHS)}; dbt-bouncer's conventions (dbt-bouncer.yml) "
        "when linting the whole project, or with --changed when a file of the dbt project changed"
    )


def lint(args: argparse.Namespace | None = None) -> int:
    """sqlfluff on the SQL (jinja templater: no database needed), ruff on the Python tooling and
    tests; only the given files or folders, if any (a folder goes to both), fixing what the tools
    can with --fix. sqlfluff never gets what .sqlfluffignore excludes: the macro definitions
    (macros/, tests/generic/) are what the jinja templater loads to render the rest
    (.sqlfluff: load_macros_from_path), not SQL it can lint, and given one by name it warns on every
    run. Both tools always run, so that a SQL finding does not hide the Python ones."""
    paths = [Path(p).resolve() for p in getattr(args, "paths", None) or []]
    fix = bool(getattr(args, "fix", False))
    changed = bool(getattr(args, "changed", False))
    # the conventions: for the whole project, or when --changed finds a change to the dbt project
    conventions = not paths and (not changed or dbt_project_changed())
    if changed:
        paths += changed_files()
        if not paths:
            if conventions:
                return run_conventions()
            print("no dbt project, SQL or Python file changed since the last commit: nothing to lint")
            return 0
        print(f"linting {len(paths)} changed file(s): {_shown(paths)}")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    other = [str(p) for p in paths if not p.is_dir() and p.suffix not in {".sql", ".py"}]
    if other:
        print(f"not a SQL or Python file, nor a folder: {', '.join(other)}", file=sys.stderr)
        return 2

    def holding(suffix: str) -> list[Path]:
        return [p for p in paths if p.suffix == suffix or (p.is_dir() and any(p.rglob(f"*{suffix}")))]

    sql, python = holding(".sql"), holding(".py")
    skipped = sqlfluff_ignored(sql)
    if skipped:
        print(f"not linted, .sqlfluffignore excludes them: {_shown(skipped)}")
        sql = [p for p in sql if p not in skipped]
        if not sql and not python:
            print("nothing left to lint" + (" but the conventions" if conventions else ""))
            return run_conventions() if conventions else 0
    sql_targets = [str(p) for p in sql] if paths else SQL_PATHS
    python_targets = [str(p) for p in python] if paths else PYTHON_PATHS
    hint = "fix the rest by hand" if fix else "fix them, or run `lp lint --fix <path>`"
    failed = 0
    for tool, run, targets in (("sqlfluff", _sqlfluff, sql_targets), ("ruff", _ruff, python_targets)):
        if not targets:
            continue
        rc = run(targets, fix)
        if rc != 0:
            print(f"{tool} found problems ({hint}).", file=sys.stderr)
            failed = failed or rc
    if conventions:
        failed = run_conventions() or failed
    return failed


def run_conventions() -> int:
    result = run_bouncer()
    if result.returncode != 0:
        if result.stdout:  # the parse failed: its output
            print(result.stdout[-3000:], file=sys.stderr)
        print("dbt-bouncer found convention problems (dbt-bouncer.yml says what each check asks).", file=sys.stderr)
    return result.returncode
