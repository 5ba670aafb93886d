"""`lp contracts check|snapshot|test`: the public marts' contracts against the committed snapshot
(lpdata.contracts) and the ODCS contracts against a warehouse (lpdata.odcs)."""

from __future__ import annotations

import sys

from . import PROJECT_ROOT, contracts, db, odcs
from .dbt import read_artifact, run_dbt

PARSE_TARGET = "target_contracts"


def _manifest(env: dict[str, str], target: str = PARSE_TARGET) -> dict:
    run_dbt(["parse"], env, target_path=target, capture=True)
    return read_artifact("manifest.json", target)


def check(env: dict[str, str], manifest: dict | None = None) -> int:
    """The breaking-change gate: BREAKING and changed lines, 1 on any difference from the snapshot."""
    breaking, additive = contracts.check(manifest or _manifest(env))
    for line in breaking:
        print(f"BREAKING: {line}")
    for line in additive:
        print(f"changed:  {line}  (run `lp contracts snapshot` and commit)")
    if not breaking and not additive:
        print("public contracts match contracts/public_contracts.json")
    return 1 if breaking or additive else 0


def snapshot(env: dict[str, str]) -> int:
    manifest = _manifest(env)
    contracts.snapshot(manifest)
    written = odcs.export(manifest)
    print(f"wrote {contracts.SNAPSHOT.relative_to(PROJECT_ROOT)} and {len(written)} ODCS contracts in "
          f"{odcs.ODCS_DIR.relative_to(PROJECT_ROOT)}; commit them with the change")
    return 0


def test(env: dict[str, str], schemas: list[str]) -> int:
    """`datacontract test` of the committed ODCS contracts against the selected warehouse (the
    files name a placeholder server; this fills in the PG* one), as an engineer in another language
    would check that what they read matches the contract."""
    paths = {p.name.removesuffix(".odcs.yaml"): p for p in sorted(odcs.ODCS_DIR.glob("*.odcs.yaml"))}
    unknown = sorted(set(schemas) - set(paths))
    if unknown:
        print(f"no ODCS contract for {', '.join(unknown)} in {odcs.ODCS_DIR}", file=sys.stderr)
        return 2
    db.check_connection(env)  # one line naming the server (lp's main), not datacontract's whole log per contract
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
