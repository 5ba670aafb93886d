"""`lp`: the project's command line. `lp run` is the main job, `lp test` runs every test.

Every command selects the database the same way (see lpdata.db): the libpq variables when set,
else the embedded PostgreSQL in .pgdata/.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

import psycopg

from . import PROJECT_ROOT, bench, check, ci, contract_commands, db, job, lint, rebuild, report
from .cliargs import Parser, iso_date, positive_int
from .dbt import INDIRECT_SELECTION, dbt_env, run_dbt, session_options
from .generate import cli as generate_cli


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
        if db.uses_external_server() and not db.selects_embedded():
            print("PG* variables point at an external server; nothing to stop.")
        else:
            print("stopped" if db.stop_embedded() else "embedded server was not running")
    return 0


def _generate(args: argparse.Namespace) -> int:
    env = db.pg_env()
    db.ensure_database(env)
    generate_cli.run(args, env)
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


# The whole suite on every core: one pytest worker per core (pytest-xdist), each test module kept in
# one worker (its module-scoped warehouse is built once), the modules in the order the suite gives
# them (longest first, pytests/conftest.py) rather than by their number of tests. The lint is one
# of the tests (pytests/test_conventions.py), so it runs beside the warehouse builds.
WHOLE_SUITE = ["--numprocesses", "auto", "--dist", "loadfile", "--no-loadscope-reorder"]
LINT_TESTS = ["pytests/test_conventions.py::test_sql_and_python_lint_clean",
              "pytests/test_conventions.py::test_dbt_bouncer_conventions_pass"]


def _test(args: argparse.Namespace) -> int:
    """Every test, lint included, on real PostgreSQL. Without pytest arguments, the whole suite on
    every core; with them (a module, -k, -x), pytest runs them as given, in one process.
    --no-lint: leave out the lint tests."""
    pytest_args = list(args.pytest_args) or WHOLE_SUITE
    if args.no_lint:
        pytest_args += [f"--deselect={test}" for test in LINT_TESTS]
    if not db.uses_external_server():
        db.pg_env()  # the embedded server is started once, before the workers that share it
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=PROJECT_ROOT)


def _contracts(args: argparse.Namespace) -> int:
    env = db.pg_env()
    if args.action == "test":
        return contract_commands.test(env, args.schemas)
    if args.action == "snapshot":
        return contract_commands.snapshot(env)
    return contract_commands.check(env)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lp", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="main job: database, synthetic data, dbt build, quality checks, docs, readouts")
    p.add_argument("--learners", type=positive_int, default=10_000, help="synthetic scale (default 10,000)")
    p.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    p.add_argument(
        "--anchor",
        type=iso_date,
        help="end date of the synthetic history, YYYY-MM-DD, and the build's as_of (default today, UTC, and now)",
    )
    p.add_argument("--skip-generate", action="store_true", help="keep the raw data already loaded")
    p.add_argument("--skip-quality", action="store_true", help="skip the Great Expectations suites")
    p.add_argument("dbt_build_args", nargs="*", help="extra arguments for dbt build (after --)")
    p.set_defaults(fn=job.run)

    p = sub.add_parser(
        "rebuild",
        help="rebuild incremental state from raw: dbt build --full-refresh of each model given and everything "
        "built on it, published as usual (what a failing reconciliation test names)",
        description=rebuild.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-s", "--select", nargs="+", required=True, metavar="MODEL",
                   help="models to rebuild from raw, e.g. base_player__events (each with what is built on it)")
    p.add_argument("--anchor", type=iso_date, help="the build's as_of: midnight UTC of this day, YYYY-MM-DD "
                   "(default: the as_of of the last build, else now)")
    p.add_argument("dbt_args", nargs="*", help="extra arguments for dbt build (after --)")
    p.set_defaults(fn=rebuild.run)

    p = sub.add_parser(
        "check",
        help="schema-only build in seconds: dbt build on empty landing tables in a scratch database, catching contract and "
        "column errors before any data is read",
        description=check.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dbt_args", nargs="*", help="extra arguments for dbt build (after --), e.g. --select")
    p.set_defaults(fn=check.run)

    p = sub.add_parser(
        "ci",
        help="slim CI: the contracts gate, then dbt build of state:modified+ deferring unchanged parents to the "
        "last main build (--state: its target folder)",
        description=ci.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--state", required=True, metavar="DIR", help="folder with the manifest.json of the last main build")
    p.add_argument("--anchor", type=iso_date, help="the build's as_of: midnight UTC of this day, YYYY-MM-DD "
                   "(default: the as_of of the main build, else now)")
    p.add_argument("dbt_args", nargs="*", help="extra arguments for dbt build (after --)")
    p.set_defaults(fn=ci.run)

    what_lint_does = lint.lint_help()  # reads .sqlfluffignore: once, not for the help and the description each
    p = sub.add_parser("lint", help=what_lint_does, description=what_lint_does)
    p.add_argument("paths", nargs="*", help="only these files or folders (default: the whole project)")
    p.add_argument("--fix", action="store_true", help="apply the fixes sqlfluff and ruff can make, then report the rest")
    p.add_argument(
        "--changed",
        action="store_true",
        help="the SQL and Python files changed since the last commit (git), and the conventions when any file "
        "of the dbt project changed (a yml too)",
    )
    p.set_defaults(fn=lint.lint)

    p = sub.add_parser("test", help="lint and every test (pytest on real PostgreSQL)")
    p.add_argument("--no-lint", action="store_true", help="leave out the lint tests (sqlfluff, ruff, dbt-bouncer)")
    p.add_argument("pytest_args", nargs="*",
                   help="pytest arguments (after --), run as given in one process; none: the whole suite on every core")
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
    actions.add_parser(
        "down", help="stop the embedded PostgreSQL, also from a shell where `eval \"$(lp env)\"` selects it "
        "(nothing to stop on another PG* server)"
    )
    p.set_defaults(fn=_db)

    p = sub.add_parser("generate", help="write synthetic raw data")
    generate_cli.add_arguments(p)
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

    bench.add_parser(sub)
    report.add_parser(sub)
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
