"""`lp`: the project's command line. `lp run` is the main job, `lp test` runs every test.

Every command selects the database the same way (see lpdata.db): the libpq variables when set,
else the embedded PostgreSQL in .pgdata/.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pathspec
import psycopg

from . import PROJECT_ROOT, db
from .cliargs import Parser, iso_date, positive_int
from .dbt import INDIRECT_SELECTION, dbt_env, read_artifact, run_dbt, session_options

ARTIFACTS = PROJECT_ROOT / "artifacts"


def _print_env(args: argparse.Namespace) -> int:
    env = db.pg_env()
    db.ensure_database(env)
    for key, value in dbt_env(env).items():
        if key.startswith("PG") or key in {"DBT_PROFILES_DIR", "DBT_INDIRECT_SELECTION"}:  # PGOPTIONS: work_mem (lpdata.dbt)
            print(f"export {key}={shlex.quote(value)}")
    # the project's tools (dbt, sqlfluff, pytest, lp) before any other install of them
    print(f'export PATH={shlex.quote(str(Path(sys.executable).parent))}:"$PATH"')
    return 0


def _db(args: argparse.Namespace) -> int:
    if args.action == "up":
        env = db.pg_env()
        db.ensure_database(env)
        print(f"PostgreSQL {db.server_release(env)} ready: {db.conninfo(env)}")
    elif args.action == "down":
        if db.uses_external_server():
            print("PG* variables point at an external server; nothing to stop.")
        else:
            print("stopped" if db.stop_embedded() else "embedded server was not running")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from .generate.cli import run as generate_run

    env = db.pg_env()
    db.ensure_database(env)
    generate_run(args, env)
    return 0


# dbt commands that read the raw tables
READS_RAW = {"build", "run", "test", "source", "show", "snapshot"}


def _dbt(args: argparse.Namespace) -> int:
    env = db.pg_env()
    db.ensure_database(env)
    if set(args.dbt_args) & READS_RAW and not db.has_schema(env, "raw"):
        print(
            f"warning: database {env['PGDATABASE']} has no raw schema, so every staging model will fail: load the "
            "synthetic data first (`lp generate`, or `lp run` for the whole main job), or point PG* at a loaded warehouse",
            file=sys.stderr,
        )
    return run_dbt(args.dbt_args, env, check=False).returncode


class Steps:
    """Runs named steps, timing each, and prints a summary table."""

    def __init__(self) -> None:
        self.timings: list[tuple[str, float]] = []

    def __call__(self, name: str, fn, *a, **kw):
        print(f"\n==> {name}", flush=True)
        start = time.perf_counter()
        result = fn(*a, **kw)
        self.timings.append((name, time.perf_counter() - start))
        return result

    def summary(self) -> str:
        width = max(len(n) for n, _ in self.timings)
        lines = [f"{n:<{width}}  {s:8.1f} s" for n, s in self.timings]
        total = sum(s for _, s in self.timings)
        lines.append(f"{'total':<{width}}  {total:8.1f} s")
        return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    """The main job: database, synthetic data, dbt build, quality checks, docs site, readouts."""
    steps = Steps()
    env = steps("database", db.pg_env)
    db.ensure_database(env)
    if not args.skip_generate:
        from .generate import generate

        anchor = args.anchor
        steps(
            f"synthetic data ({args.learners:,} learners, seed {args.seed})",
            generate,
            env,
            learners=args.learners,
            seed=args.seed,
            anchor=anchor,
        )
    steps("dbt source freshness", run_dbt, ["source", "freshness"], env, check=False)
    steps("dbt build", run_dbt, ["build", *args.dbt_build_args], env)
    try:
        from . import quality
    except ImportError:
        quality = None
    if quality is not None and not args.skip_quality:
        if not steps("quality checks (Great Expectations)", quality.run, env):
            raise RuntimeError(
                "quality checks failed: a published mart broke an expectation (see FAILED lines above and "
                f"{quality.DATA_DOCS_DIR / 'index.html'})"
            )
    steps("dbt docs generate --static", run_dbt, ["docs", "generate", "--static"], env)
    from .report import build as build_readouts

    readouts = steps("readouts (lp report)", build_readouts, env)
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {"learners": args.learners, "seed": args.seed, "timings_s": dict(steps.timings)}
    (ARTIFACTS / "run_summary.json").write_text(json.dumps(summary, indent=2))
    print("\n" + steps.summary())
    print(f"\nDocs site: {PROJECT_ROOT / 'target' / 'static_index.html'}")
    print(f"Readouts: {readouts}")
    print(f"Warehouse: {db.conninfo(env)}  (eval \"$(.venv/bin/lp env)\" to use psql or dbt directly)")
    return 0


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
    return subprocess.call(
        [sys.executable, "-m", "sqlfluff", "fix" if fix else "lint", "--config", str(PROJECT_ROOT / ".sqlfluff"), *paths],
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


def _lint(args: argparse.Namespace | None = None) -> int:
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
                return _conventions()
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
            return _conventions() if conventions else 0
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
        failed = _conventions() or failed
    return failed


def _conventions() -> int:
    result = run_bouncer()
    if result.returncode != 0:
        if result.stdout:  # the parse failed: its output
            print(result.stdout[-3000:], file=sys.stderr)
        print("dbt-bouncer found convention problems (dbt-bouncer.yml says what each check asks).", file=sys.stderr)
    return result.returncode


def _test(args: argparse.Namespace) -> int:
    """Every test: lint the SQL and Python, then pytest (which builds warehouses on real PostgreSQL).
    --no-lint: pytest alone, for the loop on a few tests (the whole lint takes about a minute)."""
    if not args.no_lint:
        rc = _lint()
        if rc != 0:
            return rc
    return subprocess.call([sys.executable, "-m", "pytest", *args.pytest_args], cwd=PROJECT_ROOT)


def _contracts_test(env: dict[str, str], schemas: list[str]) -> int:
    """`datacontract test` of the committed ODCS contracts against the selected warehouse (the
    files name a placeholder server; this fills in the PG* one), as an engineer in another language
    would check that what they read matches the contract."""
    from . import odcs

    paths = {p.name.removesuffix(".odcs.yaml"): p for p in sorted(odcs.ODCS_DIR.glob("*.odcs.yaml"))}
    unknown = sorted(set(schemas) - set(paths))
    if unknown:
        print(f"no ODCS contract for {', '.join(unknown)} in {odcs.ODCS_DIR}", file=sys.stderr)
        return 2
    db.check_connection(env)  # one line naming the server (main), not datacontract's whole log per contract
    failed = 0
    for schema, path in paths.items():
        if schemas and schema not in schemas:
            continue
        result = odcs.test(env, path)
        if result.returncode == 0:
            print(f"{schema}: the published marts match {path.relative_to(PROJECT_ROOT)}")
        else:
            failed = 1
            print((result.stdout + result.stderr)[-4000:])
            print(f"{schema}: FAILED against {db.describe(env)}", file=sys.stderr)
    return failed


def _contracts(args: argparse.Namespace) -> int:
    from . import contracts

    env = db.pg_env()
    if args.action == "test":
        return _contracts_test(env, args.schemas)
    target = "target_contracts"
    run_dbt(["parse"], env, target_path=target, capture=True)
    manifest = read_artifact("manifest.json", target)
    if args.action == "snapshot":
        from . import odcs

        contracts.snapshot(manifest)
        written = odcs.export(manifest)
        print(f"wrote {contracts.SNAPSHOT.relative_to(PROJECT_ROOT)} and {len(written)} ODCS contracts in "
              f"{odcs.ODCS_DIR.relative_to(PROJECT_ROOT)}; commit them with the change")
        return 0
    breaking, additive = contracts.check(manifest)
    for line in breaking:
        print(f"BREAKING: {line}")
    for line in additive:
        print(f"changed:  {line}  (run `lp contracts snapshot` and commit)")
    if not breaking and not additive:
        print("public contracts match contracts/public_contracts.json")
    return 1 if breaking or additive else 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lp", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="main job: database, synthetic data, dbt build, quality checks, docs, readouts")
    p.add_argument("--learners", type=positive_int, default=10_000, help="synthetic scale (default 10,000)")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument("--anchor", type=iso_date, help="end date of the synthetic history, YYYY-MM-DD (default today, UTC)")
    p.add_argument("--skip-generate", action="store_true", help="keep the raw data already loaded")
    p.add_argument("--skip-quality", action="store_true", help="skip the Great Expectations suites")
    p.add_argument("dbt_build_args", nargs="*", help="extra arguments for dbt build (after --)")
    p.set_defaults(fn=_run)

    what_lint_does = lint_help()  # reads .sqlfluffignore: once, not for the help and the description each
    p = sub.add_parser("lint", help=what_lint_does, description=what_lint_does)
    p.add_argument("paths", nargs="*", help="only these files or folders (default: the whole project)")
    p.add_argument("--fix", action="store_true", help="apply the fixes sqlfluff and ruff can make, then report the rest")
    p.add_argument(
        "--changed",
        action="store_true",
        help="the SQL and Python files changed since the last commit (git), and the conventions when any file "
        "of the dbt project changed (a yml too)",
    )
    p.set_defaults(fn=_lint)

    p = sub.add_parser("test", help="lint and every test (pytest on real PostgreSQL)")
    p.add_argument("--no-lint", action="store_true", help="skip the lint, run pytest alone (e.g. on a few tests)")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(fn=_test)

    p = sub.add_parser(
        "contracts",
        help="check public mart contracts against the committed snapshot, refresh it (and the ODCS export), "
        "or test the ODCS contracts against the warehouse",
    )
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "check",
        help="compare the public marts' contracts with contracts/public_contracts.json: BREAKING and "
        "changed lines, exit 1 on any difference",
    )
    actions.add_parser(
        "snapshot", help="rewrite contracts/public_contracts.json and the ODCS contracts in contracts/odcs/ from the models"
    )
    tested = actions.add_parser(
        "test",
        help="datacontract test of the committed ODCS contracts against the selected warehouse's published marts",
    )
    tested.add_argument("schemas", nargs="*", help="only these consumer schemas (default: every contract)")
    p.set_defaults(fn=_contracts)

    p = sub.add_parser("env", help="print export lines for psql/dbt: eval \"$(lp env)\"")
    p.set_defaults(fn=_print_env)

    p = sub.add_parser("db", help="start or stop the embedded PostgreSQL")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "up",
        help="start the embedded PostgreSQL in .pgdata/ (or use the PG* server), create the database, "
        "print the server's version and connection",
    )
    actions.add_parser("down", help="stop the embedded PostgreSQL (nothing to stop on a PG* server)")
    p.set_defaults(fn=_db)

    p = sub.add_parser("generate", help="write synthetic raw data")
    from .generate.cli import add_arguments

    add_arguments(p)
    p.set_defaults(fn=_generate)

    p = sub.add_parser(
        "dbt",
        help="run dbt with the selected database, e.g. lp dbt -- build -s dim_learners",
        description=(
            "Run dbt on the selected warehouse (the PG* server, else the embedded PostgreSQL), with the project's "
            f"profiles.yml, DBT_INDIRECT_SELECTION={INDIRECT_SELECTION} (a partial build runs the tests of what it "
            "selects and of what that reads, not one that also reads a model it does not rebuild) and the build's "
            f"session settings in PGOPTIONS ({session_options()}), as `eval \"$(lp env)\"` exports them."
        ),
    )
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=_dbt)

    try:
        from .bench import add_parser as add_bench
    except ImportError:
        add_bench = None
    if add_bench:
        add_bench(sub)
    from .report import add_parser as add_report

    add_report(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"error: {db.connection_failure(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
