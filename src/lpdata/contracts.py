"""Breaking-change detection for the public marts against a committed snapshot.

`contracts/public_contracts.json` records, for every version of every public model, its columns
(name, position, data type, not-null), primary key, check constraints, latest version and
deprecation date. `check()` compares the project as it is now (from `dbt parse`) with that
snapshot:

- a column removed, renamed, retyped or moved to another position (consumers of `select *`, COPY
  and positional clients read columns by position), a not-null, primary key or check constraint
  loosened (a check removed or changed), or a version removed before its deprecation date:
  BREAKING, fails with a message naming the mart and what to do (create a new version, keep the
  old one with a deprecation_date);
- a new mart, version or column (after the existing ones), or a tightening (a not_null, a primary
  key where there was none, a new check constraint, contract enforcement turned on): fine, but
  the snapshot must be refreshed (`lp contracts snapshot`) and committed, so a reviewer sees
  every change to the interface.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from . import PROJECT_ROOT

SNAPSHOT = PROJECT_ROOT / "contracts" / "public_contracts.json"

_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "float": "double precision",
    "float8": "double precision",
    "bool": "boolean",
    "timestamptz": "timestamp with time zone",
    "varchar": "character varying",
    "char": "character",
}


def normalise_type(data_type: str | None) -> str:
    """One spelling per PostgreSQL type, so `int[]` and `integer[]` compare equal."""
    t = re.sub(r"\s+", " ", (data_type or "").strip().lower())
    t = re.sub(r"\s*([(),])\s*", r"\1", t)
    array = t.endswith("[]")
    t = t.removesuffix("[]")
    name, _, args = t.partition("(")
    name = _TYPE_ALIASES.get(name.strip(), name.strip())
    return name + (f"({args}" if args else "") + ("[]" if array else "")


def normalise_check(expression: str | None) -> str:
    """One spelling per check expression (case and spacing outside string literals), so a
    reformatted yml compares equal while a changed literal ('Beginner' for 'beginner') does not."""
    parts = re.split(r"('(?:[^']|'')*')", (expression or "").strip())
    return "".join(part if part.startswith("'") else re.sub(r"\s+", " ", part.lower()) for part in parts)


def public_models(manifest: dict) -> list[dict]:
    """The manifest's public models (every version of every mart), in manifest order."""
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n.get("access") == "public"]


def primary_key(node: dict) -> list[str]:
    """The model's primary key columns in key order: its model-level constraint, else the columns
    with a column-level primary_key constraint (in column order)."""
    for constraint in node.get("constraints") or []:
        if constraint["type"] == "primary_key" and constraint.get("columns"):
            return list(constraint["columns"])
    return [
        name
        for name, column in node["columns"].items()
        if any(c["type"] == "primary_key" for c in column.get("constraints") or [])
    ]


def check_constraints(node: dict) -> tuple[list[str], dict[str, list[str]]]:
    """The model's check expressions: (model-level ones, column -> that column's ones)."""

    def checks(constraints: list[dict] | None) -> list[str]:
        return [c["expression"] for c in constraints or [] if c["type"] == "check" and c.get("expression")]

    return checks(node.get("constraints")), {name: checks(col.get("constraints")) for name, col in node["columns"].items()}


def contracts_from_manifest(manifest: dict) -> dict:
    marts = {}
    for node in public_models(manifest):
        key = f'{node["name"]}.v{node.get("version")}'
        table_checks, column_checks = check_constraints(node)
        checks = [normalise_check(c) for c in table_checks + [c for cs in column_checks.values() for c in cs]]
        columns = {}
        # the manifest keeps the yml order, which is the order the contract creates the table in
        for position, (name, col) in enumerate(node["columns"].items(), start=1):
            kinds = {c["type"] for c in col.get("constraints", [])}
            columns[name] = {
                "data_type": normalise_type(col.get("data_type")),
                "not_null": "not_null" in kinds,
                "position": position,
            }
        marts[key] = {
            "name": node["name"],
            "version": node.get("version"),
            "latest_version": node.get("latest_version"),
            "relation": f'{node["config"].get("meta", {}).get("publish_schema", node["schema"])}.{node["alias"]}',
            "contract_enforced": bool(node["config"].get("contract", {}).get("enforced")),
            "deprecation_date": (node.get("deprecation_date") or None) and str(node["deprecation_date"])[:10],
            "primary_key": sorted(primary_key(node)),
            "checks": sorted(set(checks)),
            "columns": columns,
        }
    return dict(sorted(marts.items()))


def compare(old: dict, new: dict, today: dt.date | None = None) -> tuple[list[str], list[str]]:
    """(breaking changes, additive changes) between two contract snapshots."""
    today = today or dt.date.today()
    breaking: list[str] = []
    additive: list[str] = []
    for key, before in old.items():
        after = new.get(key)
        label = f'{before["relation"]} ({before["name"]} v{before["version"]})'
        if after is None:
            deprecation = before.get("deprecation_date")
            if deprecation and dt.date.fromisoformat(deprecation) <= today:
                additive.append(f"{label} removed after its deprecation date {deprecation}")
            else:
                breaking.append(
                    f"{label} was removed"
                    + (f" before its deprecation date {deprecation}" if deprecation else " without a deprecation_date")
                    + ": keep it, set deprecation_date on this version, and remove it only after that date."
                )
            continue
        for column, spec in before["columns"].items():
            now = after["columns"].get(column)
            if now is None:
                breaking.append(
                    f"{label}: column '{column}' was removed or renamed. Consumers read it: add a new version "
                    f"of {before['name']} (versions: - v: {int(before['version']) + 1}) with the change and "
                    f"give v{before['version']} a deprecation_date."
                )
                continue
            if now["data_type"] != spec["data_type"]:
                breaking.append(
                    f"{label}: column '{column}' changed type {spec['data_type']} -> "
                    f"{now['data_type']}. Add a new version of {before['name']} instead."
                )
            elif spec["not_null"] and not now["not_null"]:
                breaking.append(f"{label}: column '{column}' lost its not_null constraint. Add a new version instead.")
            elif now["not_null"] and not spec["not_null"]:
                # not breaking, but recorded: loosening it again later must be caught
                additive.append(f"{label}: column '{column}' gained a not_null constraint")
            # a snapshot written before positions were recorded has none: no position to compare
            if spec.get("position") is not None and now.get("position") not in (None, spec["position"]):
                breaking.append(
                    f"{label}: column '{column}' moved from position {spec['position']} to {now['position']}. "
                    "Consumers of select *, COPY and positional clients read columns by position: keep the "
                    f"order (new columns at the end) or add a new version of {before['name']} instead."
                )
        if before["primary_key"] and before["primary_key"] != after["primary_key"]:
            breaking.append(f"{label}: primary key changed {before['primary_key']} -> {after['primary_key']}.")
        elif after["primary_key"] and not before["primary_key"]:
            additive.append(f"{label}: new primary key {after['primary_key']}")
        # a snapshot written before checks were recorded has none: nothing to compare
        for check in sorted(set(before.get("checks", [])) - set(after.get("checks", before.get("checks", [])))):
            breaking.append(
                f"{label}: check constraint '{check}' was removed or changed. Consumers rely on what it "
                f"guarantees: keep it, or add a new version of {before['name']} with the new rule."
            )
        if "checks" in before:
            for check in sorted(set(after.get("checks", [])) - set(before["checks"])):
                additive.append(f"{label}: new check constraint '{check}'")
        if before["contract_enforced"] and not after["contract_enforced"]:
            breaking.append(f"{label}: contract enforcement was turned off.")
        elif after["contract_enforced"] and not before["contract_enforced"]:
            additive.append(f"{label}: contract enforcement turned on")
        for column in after["columns"]:
            if column not in before["columns"]:
                additive.append(f"{label}: new column '{column}'")
        for field in ("latest_version", "deprecation_date"):
            if before.get(field) != after.get(field):
                additive.append(f"{label}: {field} {before.get(field)} -> {after.get(field)}")
    for key, after in new.items():
        if key not in old:
            additive.append(f'new public mart version {after["relation"]} ({after["name"]} v{after["version"]})')
    return breaking, additive


def snapshot(manifest: dict, path: Path = SNAPSHOT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contracts_from_manifest(manifest), indent=2, sort_keys=True) + "\n")


def check(manifest: dict, path: Path = SNAPSHOT) -> tuple[list[str], list[str]]:
    if not path.exists():
        return ([f"no contract snapshot at {path}: run `lp contracts snapshot` and commit it"], [])
    old = json.loads(path.read_text())
    return compare(old, contracts_from_manifest(manifest))
