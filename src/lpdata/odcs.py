"""ODCS data contracts of the public marts, for engineers in other languages.

`export()` turns the dbt manifest into one Open Data Contract Standard file per consumer schema
(contracts/odcs/<schema>.odcs.yaml) with datacontract-cli's dbt importer; `test()` runs
`datacontract test` against the published marts of a built warehouse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from . import PROJECT_ROOT

ODCS_DIR = PROJECT_ROOT / "contracts" / "odcs"
SERVER_NAME = "warehouse"


def _datacontract() -> str:
    candidate = Path(sys.executable).with_name("datacontract")
    return str(candidate) if candidate.exists() else "datacontract"


def public_marts_by_schema(manifest: dict) -> dict[str, list[str]]:
    marts: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node.get("access") == "public":
            marts.setdefault(node["config"]["meta"]["publish_schema"], []).append(node["alias"])
    return {schema: sorted(aliases) for schema, aliases in sorted(marts.items())}


def export(manifest: dict, out_dir: Path = ODCS_DIR) -> list[Path]:
    """Write one ODCS contract per consumer schema; versions appear under their relation names."""
    # The importer names tables after node.name, which versions share: use the published alias.
    aliased = json.loads(json.dumps(manifest))
    for node in aliased["nodes"].values():
        if node["resource_type"] == "model" and node.get("access") == "public":
            node["name"] = node["alias"]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        manifest_path = Path(tmp) / "manifest.json"
        manifest_path.write_text(json.dumps(aliased))
        for schema, aliases in public_marts_by_schema(manifest).items():
            out = out_dir / f"{schema}.odcs.yaml"
            cmd = [_datacontract(), "import", "dbt", "--source", str(manifest_path), "--id", f"learning-platform-{schema}"]
            cmd += ["--owner", schema, "--output", str(Path(tmp) / out.name)]
            for alias in aliases:
                cmd += ["--model", alias]
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            contract = yaml.safe_load((Path(tmp) / out.name).read_text())
            contract["name"] = f"Learning platform {schema} marts"
            contract["status"] = "active"
            contract["description"] = {
                "purpose": f"Published marts of the {schema} data product, read with the role platform_reader.",
                "usage": "Query <schema>.<mart>_v<N>; the unversioned name is a view on the latest version.",
            }
            contract["servers"] = [
                {
                    "server": SERVER_NAME,
                    "type": "postgres",
                    "host": "localhost",
                    "port": 5432,
                    "database": "learning",
                    "schema": schema,
                }
            ]
            out.write_text(yaml.safe_dump(contract, sort_keys=False, allow_unicode=True, width=100))
            written.append(out)
    return written


def test(env: dict[str, str], contract: Path) -> subprocess.CompletedProcess:
    """`datacontract test` of one contract against the warehouse selected by env."""
    data = yaml.safe_load(contract.read_text())
    for server in data["servers"]:
        server.update(
            host=env.get("PGHOST", "localhost"),
            port=int(env.get("PGPORT", "5432")),
            database=env["PGDATABASE"],
        )
    run_env = dict(os.environ)
    run_env["DATACONTRACT_POSTGRES_USERNAME"] = env.get("PGUSER", "postgres")
    # the library insists on a password; trust and peer authentication ignore it
    run_env["DATACONTRACT_POSTGRES_PASSWORD"] = env.get("PGPASSWORD") or "unused"
    with tempfile.TemporaryDirectory() as tmp:
        resolved = Path(tmp) / contract.name
        resolved.write_text(yaml.safe_dump(data, sort_keys=False))
        return subprocess.run(
            [_datacontract(), "test", str(resolved), "--server", SERVER_NAME],
            capture_output=True,
            text=True,
            env=run_env,
        )
