"""`lp rebuild -s <model>...`: rebuild incremental state from raw, and everything built on it.

An incremental base model (events, model scores) keeps the rows it staged. When raw and staging
disagree (rows deleted or rewritten in raw after they were staged, a rule or var changed, a bad row
staged before a rule caught it) the source's reconciliation test fails and names this command. It
runs `dbt build --full-refresh --select <model>+` for each model given: the model is rebuilt from
raw, then every model and test built on it; the marts publish through the usual write-audit-publish
(on-run-end), so a mart whose tests fail keeps its last good version. The build takes the vars of
the warehouse's last build (its as_of) unless --anchor sets as_of.
"""

from __future__ import annotations

import argparse
import sys

from . import db
from .dbt import read_artifact, run_dbt
from .job import as_of, with_vars


def last_build_vars(target_path: str | None = None) -> dict:
    """The vars of the last dbt invocation that wrote to the target folder (run_results.json), {} if none."""
    results = read_artifact("run_results.json", target_path, required=False)
    return dict((results or {}).get("args", {}).get("vars") or {})


def model_names(manifest: dict) -> set[str]:
    return {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"}


def summary(results: dict) -> list[str]:
    """What the build did: the models rebuilt, those not built (error, skipped), the tests' outcome."""
    by_status: dict[tuple[str, str], list[str]] = {}
    for result in results["results"]:
        kind, _, name = result["unique_id"].split(".", 2)
        name = name if kind == "model" else name.split(".")[0]  # a model with its version, a test without its hash
        by_status.setdefault((kind, result["status"]), []).append(name)
    lines = []
    rebuilt = sorted(by_status.get(("model", "success"), []))
    lines.append(f"rebuilt {len(rebuilt)} models: {', '.join(rebuilt)}")
    for status in ("error", "skipped"):
        names = sorted(by_status.get(("model", status), []))
        if names:
            lines.append(f"not rebuilt ({status}): {', '.join(names)}")
    tests = {status: len(names) for (kind, status), names in by_status.items() if kind in {"test", "unit_test"}}
    if tests:
        lines.append("tests: " + ", ".join(f"{n} {status}" for status, n in sorted(tests.items())))
    failed = sorted(name for (kind, status), names in by_status.items()
                    if kind in {"test", "unit_test"} and status in {"fail", "error"} for name in names)
    if failed:
        lines.append(f"failed tests: {', '.join(failed)}")
    return lines


def run(args: argparse.Namespace) -> int:
    env = db.pg_env()
    build_vars = last_build_vars()
    if args.anchor:
        build_vars["as_of"] = as_of(args.anchor)
    # with the build's vars: dbt keys its saved parse on them, so the build starts from this parse
    run_dbt(with_vars(["parse"], build_vars), env, capture=True)
    unknown = sorted(set(args.select) - model_names(read_artifact("manifest.json")))
    if unknown:
        print(f"lp rebuild: error: no model named {', '.join(unknown)} (give model names, e.g. base_player__events)",
              file=sys.stderr)
        return 2
    db.check_connection(env)  # after the names: a typo is answered without a warehouse
    command = with_vars(["build", "--full-refresh", "--select", *(f"{model}+" for model in args.select),
                         *args.dbt_args], build_vars)
    print(f"==> dbt {' '.join(command)}", flush=True)
    result = run_dbt(command, env, check=False)
    results = read_artifact("run_results.json", required=False)
    if results:
        print("\n".join(summary(results)))
    return result.returncode
