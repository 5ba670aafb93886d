"""ODCS data contracts of the public marts, for engineers in other languages.

`export()` turns the dbt manifest into one Open Data Contract Standard file per consumer schema
(contracts/odcs/<schema>.odcs.yaml) with datacontract-cli's dbt importer, then puts composite
primary keys and array columns in the standard's fields (`standard_fields`); `test()` runs
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
from .contracts import check_constraints, normalise_type, primary_key, public_models

ODCS_DIR = PROJECT_ROOT / "contracts" / "odcs"
SERVER_NAME = "warehouse"


def _datacontract() -> str:
    candidate = Path(sys.executable).with_name("datacontract")
    return str(candidate) if candidate.exists() else "datacontract"


def public_marts_by_schema(manifest: dict) -> dict[str, list[str]]:
    marts: dict[str, list[str]] = {}
    for node in public_models(manifest):
        marts.setdefault(node["config"]["meta"]["publish_schema"], []).append(node["alias"])
    return {schema: sorted(aliases) for schema, aliases in sorted(marts.items())}


_LOGICAL_TYPES = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "numeric": "number",
    "real": "number",
    "double precision": "number",
    "text": "string",
    "character varying": "string",
    "character": "string",
    "boolean": "boolean",
    "date": "date",
    "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamp": "timestamp",
    "jsonb": "object",
    "json": "object",
}


def logical_type(physical: str) -> str:
    """ODCS logical type of a PostgreSQL element type, as the importer maps a column of that type.
    (Its mapping is not imported: importing datacontract changes how PyYAML dumps strings.)"""
    name = normalise_type(physical).partition("(")[0]
    if name not in _LOGICAL_TYPES:
        raise ValueError(f"no ODCS logical type for PostgreSQL type {physical!r}: add it to odcs._LOGICAL_TYPES")
    return _LOGICAL_TYPES[name]


def _with_keys_before_logical_type(prop: dict, extra: dict) -> dict:
    """prop with extra's keys set, new ones placed before logicalType as the importer places them."""
    out = {}
    for key, value in prop.items():
        if key == "logicalType":
            out.update(extra)
        out.setdefault(key, value)
    out.update(extra)
    return out


def check_quality(expression: str) -> dict:
    """A check constraint of the contract as an ODCS SQL quality rule (no row breaks it), so that
    tools reading the contract see the rule and `datacontract test` runs it."""
    return {
        "type": "sql",
        "description": f"Check constraint of the dbt contract: {expression}",
        "query": f"select count(*) from {{model}} where not ({expression})",
        "mustBe": 0,
    }


def standard_fields(table: dict, node: dict) -> dict:
    """Fix what the dbt importer writes outside the standard. A composite primary key becomes
    `primaryKey: true` and `primaryKeyPosition: <n>` (1-based, key order) on each key column,
    instead of a `primaryKey` custom property; an array column (`integer[]`) gets `logicalType:
    array` and `items` with the element type, instead of its element's logical type. A deprecated
    version gets its deprecationDate and the latest version's table as custom properties. Check
    constraints become SQL quality rules of their column (or table)."""
    key = primary_key(node)
    table["customProperties"] = [p for p in table.get("customProperties", []) if p["property"] != "primaryKey"]
    # a deprecated version says so where a consumer's tooling looks (ODCS has no per-table status)
    if node.get("deprecation_date"):
        table["customProperties"] += [
            {"property": "deprecationDate", "value": str(node["deprecation_date"])[:10]},
            {"property": "latestVersion", "value": f'{node["name"]}_v{node["latest_version"]}'},
        ]
    if not table["customProperties"]:
        del table["customProperties"]
    table_checks, column_checks = check_constraints(node)
    if table_checks:
        table["quality"] = [check_quality(expression) for expression in table_checks]
    properties = []
    for prop in table["properties"]:
        if column_checks.get(prop["name"]):
            prop["quality"] = [check_quality(expression) for expression in column_checks[prop["name"]]]
        if prop["name"] in key:
            prop = _with_keys_before_logical_type(
                prop, {"primaryKey": True, "primaryKeyPosition": key.index(prop["name"]) + 1}
            )
        physical = prop.get("physicalType") or ""
        if physical.endswith("[]"):
            element = physical.removesuffix("[]").strip()
            prop["logicalType"] = "array"
            prop["items"] = {"logicalType": logical_type(element), "physicalType": element}
        properties.append(prop)
    table["properties"] = properties
    return table


def export(manifest: dict, out_dir: Path = ODCS_DIR) -> list[Path]:
    """Write one ODCS contract per consumer schema; versions appear under their relation names."""
    # The importer names tables after node.name, which versions share: use the published alias.
    aliased = json.loads(json.dumps(manifest))
    for node in public_models(aliased):
        node["name"] = node["alias"]
    public = {node["alias"]: node for node in public_models(manifest)}
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
            # in alias order: the importer follows the manifest's node order, which a partial parse changes
            tables = sorted(contract["schema"], key=lambda table: aliases.index(table["name"]))
            contract["schema"] = [standard_fields(table, public[table["name"]]) for table in tables]
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
