"""Project conventions, checked by maintained tools: dbt-bouncer (manifest) and dbt parse warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lpdata import PROJECT_ROOT
from lpdata.dbt import dbt_env, dbt_executable


def test_dbt_bouncer_conventions_pass():
    env = dbt_env({})
    env["DBT_TARGET_PATH"] = "target_bouncer"
    parse = subprocess.run([dbt_executable(), "parse"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert parse.returncode == 0, parse.stdout[-3000:]
    bouncer = Path(sys.executable).with_name("dbt-bouncer")
    result = subprocess.run(
        [str(bouncer), "--config-file", "dbt-bouncer.yml"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "All checks passed" in result.stdout
