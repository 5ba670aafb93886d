"""`lp ci --state DIR`: slim CI, building and testing only what a change touches.

DIR holds the manifest.json of the last main build (its target folder, or a copy of it). First the
breaking-change gate of the public contracts (`lp contracts check`), then
`dbt build --select state:modified+ --defer --state DIR`: the models whose SQL, config or yml differ
from that build, and everything built on them, with their tests; every unchanged parent they read
is deferred to the relation the main build made (same database) rather than rebuilt. The build
takes the vars of that main build (its as_of) unless --anchor sets as_of. Marts publish through the
usual write-audit-publish.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import contract_commands, db
from .dbt import read_artifact, run_dbt
from .job import as_of, with_vars
from .rebuild import last_build_vars, summary

TARGET = "target_ci"


def run(args: argparse.Namespace) -> int:
    state = Path(args.state).resolve()
    if not (state / "manifest.json").is_file():
        print(f"lp ci: error: no manifest.json in {state} (give the target folder of the last main build)",
              file=sys.stderr)
        return 2
    env = db.pg_env()
    db.check_connection(env)

    build_vars = last_build_vars(state)
    if args.anchor:
        build_vars["as_of"] = as_of(args.anchor)

    print("==> breaking-change gate of the public contracts (lp contracts check)", flush=True)
    # with the build's vars: dbt keys its saved parse on them, so the build starts from this parse
    run_dbt(with_vars(["parse"], build_vars), env, target_path=TARGET, capture=True)
    gate = contract_commands.check(env, read_artifact("manifest.json", TARGET))

    command = with_vars(["build", "--select", "state:modified+", "--defer", "--state", str(state), *args.dbt_args],
                        build_vars)
    print(f"==> dbt {' '.join(command)}", flush=True)
    result = run_dbt(command, env, target_path=TARGET, check=False)
    results = read_artifact("run_results.json", TARGET, required=False)
    if results:
        print("\n".join(summary(results)))
    if gate:
        print("lp ci: the public contracts changed (BREAKING or changed lines above)", file=sys.stderr)
    return result.returncode or gate
