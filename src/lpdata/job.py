"""`lp run`, the main job: database, synthetic data, dbt build, quality checks, docs site, readouts.

With --anchor the synthetic history ends on that day and the build takes it as "now" (var as_of,
macros/as_of.sql), as the tests pin it, so the marts describe the data's last day rather than
the wall clock's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import yaml

from . import PROJECT_ROOT, db, quality
from .dbt import run_dbt

ARTIFACTS = PROJECT_ROOT / "artifacts"


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


def as_of(anchor: dt.date) -> str:
    """The as_of var of a build on data that ends at anchor: midnight UTC starting that day."""
    return f"{anchor.isoformat()}T00:00:00+00:00"


def with_vars(dbt_args: list[str], extra: dict) -> list[str]:
    """dbt_args with extra merged into their --vars (a --vars given already wins for its keys)."""
    if not extra:
        return list(dbt_args)
    args = list(dbt_args)
    for i, arg in enumerate(args):
        if arg == "--vars" and i + 1 < len(args):
            args[i + 1] = json.dumps({**extra, **(yaml.safe_load(args[i + 1]) or {})})
            return args
        if arg.startswith("--vars="):
            args[i] = "--vars=" + json.dumps({**extra, **(yaml.safe_load(arg.removeprefix("--vars=")) or {})})
            return args
    return [*args, "--vars", json.dumps(extra)]


def _database() -> dict[str, str]:
    env = db.pg_env()
    db.ensure_database(env)
    return env


def run(args: argparse.Namespace) -> int:
    steps = Steps()
    env = steps("database", _database)
    if not args.skip_generate:
        from .generate import generate

        steps(
            f"synthetic data ({args.learners:,} learners, seed {args.seed})",
            generate,
            env,
            learners=args.learners,
            seed=args.seed,
            anchor=args.anchor,
        )
    build_vars = {"as_of": as_of(args.anchor)} if args.anchor else {}
    # every dbt command with the build's vars: dbt keys its saved parse on them, so each command
    # starts from the previous one's parse instead of parsing every file again
    steps("dbt source freshness", run_dbt, with_vars(["source", "freshness"], build_vars), env, check=False)
    build = with_vars(["build", *args.dbt_build_args], build_vars)
    steps("dbt build" + (f" (as_of {build_vars['as_of']})" if build_vars else ""), run_dbt, build, env)
    if not args.skip_quality and not steps("quality checks (Great Expectations)", quality.run, env):
        raise RuntimeError(
            "quality checks failed: a published mart broke an expectation (see FAILED lines above and "
            f"{quality.DATA_DOCS_DIR / 'index.html'})"
        )
    steps("dbt docs generate --static", run_dbt, with_vars(["docs", "generate", "--static"], build_vars), env)
    from .report import build as build_readouts

    readouts = steps("readouts (lp report)", build_readouts, env)
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {
        "learners": args.learners,
        "seed": args.seed,
        "as_of": build_vars.get("as_of"),
        "timings_s": dict(steps.timings),
    }
    (ARTIFACTS / "run_summary.json").write_text(json.dumps(summary, indent=2))
    print("\n" + steps.summary())
    print(f"\nDocs site: {PROJECT_ROOT / 'target' / 'static_index.html'}")
    print(f"Readouts: {readouts}")
    print(f"Warehouse: {db.conninfo(env)}  (eval \"$(.venv/bin/lp env)\" to use psql or dbt directly)")
    return 0
