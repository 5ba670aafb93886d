"""`lp check`: the schema-only build, in seconds, before any data is read.

A `dbt build` in a scratch database beside the warehouse (<database>_check, recreated each time)
whose raw schema holds the landing tables as the sources' spec declares them (lpdata.generate.schema),
empty. Every model is compiled and created and every data test run, on zero rows: a contract that no
longer matches its model's columns, a column that does not exist, a type that does not cast, a test
that reads a missing column fail here, and no real table is touched. Tests that judge rows
(uniqueness, relationships, reconciliation) pass trivially: the data is checked by the real build.
Unit tests (logic on fixed rows, not schema) are left to `dbt build`.

Empty landing tables rather than `dbt build --empty`: --empty reads each ref and source as a
subquery, which breaks SQL that aliases a ref (`from {{ ref(...) }} as x`) and tests that look the
relation up in the catalog, so it reported errors that are not there.
"""

from __future__ import annotations

import argparse
import time

from . import db
from .dbt import run_dbt
from .generate.schema import create_statements

TARGET = "target_check"


def scratch_env(env: dict[str, str]) -> dict[str, str]:
    return env | {"PGDATABASE": f"{env['PGDATABASE']}_check"}


def prepare(env: dict[str, str]) -> None:
    """A fresh scratch database with the empty landing tables."""
    db.ensure_database(env, recreate=True)
    with db.connect(env) as conn:
        for statement in create_statements():
            conn.execute(statement)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    env = scratch_env(db.pg_env())
    prepare(env)
    result = run_dbt(["build", "--exclude-resource-type", "unit_test", *args.dbt_args], env, target_path=TARGET, check=False)
    seconds = time.perf_counter() - started
    verdict = "passed" if result.returncode == 0 else "FAILED"
    print(f"schema-only check {verdict} in {seconds:.1f} s (dbt build on empty landing tables in database "
          f"{env['PGDATABASE']})")
    return result.returncode
