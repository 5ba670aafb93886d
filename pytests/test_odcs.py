"""ODCS contracts of the public marts (datacontract-cli): committed, current, and true of the warehouse."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from conftest import run_lp

from lpdata import contracts, odcs


@pytest.fixture(scope="module")
def manifest(warehouse):
    return warehouse.artifact("manifest.json")


def test_committed_odcs_contracts_are_current(manifest, tmp_path):
    fresh = odcs.export(manifest, tmp_path)
    assert fresh, "no public marts"
    for path in fresh:
        committed = odcs.ODCS_DIR / path.name
        assert committed.exists(), f"{committed} missing: run `lp contracts snapshot` and commit"
        assert committed.read_text() == path.read_text(), f"{committed.name} is stale: run `lp contracts snapshot`"


def test_export_does_not_depend_on_the_manifest_node_order(manifest, tmp_path):
    """A partial parse (lp contracts snapshot after a yml edit) puts the changed nodes last."""
    reordered = dict(manifest, nodes=dict(reversed(list(manifest["nodes"].items()))))
    for ours, theirs in zip(odcs.export(manifest, tmp_path / "a"), odcs.export(reordered, tmp_path / "b"), strict=True):
        assert ours.read_text() == theirs.read_text(), ours.name


SCHEMAS = ["coaching", "core", "experimentation", "recommendations", "skills"]


def test_datacontract_test_passes_against_the_built_warehouse(warehouse):
    """`lp contracts test`, as an engineer runs it: datacontract test of every committed contract
    against the warehouse the PG* variables select (the files name a placeholder server)."""
    assert sorted(p.name.removesuffix(".odcs.yaml") for p in odcs.ODCS_DIR.glob("*.odcs.yaml")) == SCHEMAS
    result = run_lp("contracts", "test", pg=warehouse.env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert [line for line in result.stdout.splitlines() if "the published marts match" in line] == [
        f"{schema}: the published marts match contracts/odcs/{schema}.odcs.yaml" for schema in SCHEMAS
    ]
    unknown = run_lp("contracts", "test", "nope", pg=warehouse.env)
    assert unknown.returncode == 2 and "no ODCS contract for nope" in unknown.stderr


def _committed_tables() -> dict[str, dict]:
    """schema.table -> ODCS table, of every committed contract."""
    tables = {}
    for path in sorted(odcs.ODCS_DIR.glob("*.odcs.yaml")):
        contract = yaml.safe_load(path.read_text())
        for table in contract["schema"]:
            tables[f'{contract["servers"][0]["schema"]}.{table["name"]}'] = table
    return tables


def test_primary_keys_are_the_standard_fields_in_the_warehouse_key_order(warehouse):
    """Every key column, of single-column and composite keys: primaryKey and primaryKeyPosition
    in the order of the published table's primary key; no key hidden in customProperties."""
    tables = _committed_tables()
    assert len(tables) == 19
    composite = 0
    for relation, table in tables.items():
        built_key = [
            row[0]
            for row in warehouse.query(
                """
                select a.attname from pg_index i
                cross join lateral unnest(i.indkey) with ordinality as k (attnum, n)
                join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                where i.indrelid = %s::regclass and i.indisprimary order by k.n
                """,
                (relation,),
            )
        ]
        assert built_key, f"{relation} has no primary key"
        declared = sorted(
            (p for p in table["properties"] if p.get("primaryKey")), key=lambda p: p["primaryKeyPosition"]
        )
        assert [p["name"] for p in declared] == built_key, relation
        assert [p["primaryKeyPosition"] for p in declared] == list(range(1, len(built_key) + 1)), relation
        assert all("primaryKeyPosition" not in p for p in table["properties"] if not p.get("primaryKey")), relation
        assert "primaryKey" not in {c["property"] for c in table.get("customProperties", [])}, relation
        composite += len(built_key) > 1
    assert composite == 15


def test_array_columns_are_odcs_arrays_of_their_element_type(warehouse):
    tables = _committed_tables()
    arrays = 0
    for relation, table in tables.items():
        built = dict(
            warehouse.query(
                """
                select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
                where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
                """,
                (relation,),
            )
        )
        for prop in table["properties"]:
            if built[prop["name"]].endswith("[]"):
                arrays += 1
                assert prop["logicalType"] == "array", (relation, prop["name"])
                assert prop["items"]["physicalType"] + "[]" == built[prop["name"]], (relation, prop["name"])
                assert prop["items"]["logicalType"] == odcs.logical_type(prop["items"]["physicalType"])
            else:
                assert prop["logicalType"] != "array" and "items" not in prop, (relation, prop["name"])
    assert arrays >= 1  # dim_courses_v1.skills, integer[]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_datacontract_lint_accepts_the_committed_contracts(schema):
    result = subprocess.run(
        [odcs._datacontract(), "lint", str(odcs.ODCS_DIR / f"{schema}.odcs.yaml")], capture_output=True, text=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Data contract is valid" in result.stdout


def test_check_constraints_are_quality_rules_that_datacontract_test_runs(warehouse, manifest, tmp_path):
    """Each check constraint of a mart's contract is an SQL quality rule of its column in the ODCS
    file, so tools in other languages see the rule, and `datacontract test` runs it: a rule the
    data breaks (rank at most 3, where lists have 10) fails."""
    expected = set()
    for node in contracts.public_models(manifest):
        for name, col in node["columns"].items():
            expected |= {(node["alias"], name, c["expression"]) for c in col["constraints"] if c["type"] == "check"}
    found = {
        (table, column, rule["description"].removeprefix("Check constraint of the dbt contract: "))
        for (table, column), rules in _quality_rules().items()
        for rule in rules
    }
    assert expected and found == expected
    narrowed = tmp_path / "recommendations.odcs.yaml"
    text = (odcs.ODCS_DIR / narrowed.name).read_text()
    assert text.count("not (rank between 1 and 10)") == 1
    narrowed.write_text(text.replace("not (rank between 1 and 10)", "not (rank between 1 and 3)"))
    result = odcs.test(warehouse.env, narrowed)
    out = " ".join(result.stdout.split())
    assert result.returncode != 0 and "rank between 1 and 10: Actual custom_sql(rank) was" in out, out[-3000:]
    assert odcs.test(warehouse.env, odcs.ODCS_DIR / narrowed.name).returncode == 0


def _quality_rules() -> dict[tuple[str, str], list[dict]]:
    """(table, column) -> the SQL quality rules of that column, in every committed contract."""
    return {
        (table["name"], prop["name"]): prop["quality"]
        for table in _committed_tables().values()
        for prop in table["properties"]
        if prop.get("quality")
    }
