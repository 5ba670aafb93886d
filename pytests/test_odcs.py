"""ODCS contracts of the public marts (datacontract-cli): committed, current, and true of the warehouse."""

from __future__ import annotations

import pytest

from lpdata import odcs


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


@pytest.mark.parametrize("schema", ["core", "experimentation", "coaching", "recommendations", "skills"])
def test_datacontract_test_passes_against_the_built_warehouse(warehouse, schema):
    contract = odcs.ODCS_DIR / f"{schema}.odcs.yaml"
    if not contract.exists():
        pytest.fail(f"{contract} missing: run `lp contracts snapshot`")
    result = odcs.test(warehouse.env, contract)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert "Data contract is valid" in result.stdout
