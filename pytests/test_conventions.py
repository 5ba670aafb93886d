"""Project conventions, checked by maintained tools: dbt-bouncer (manifest) and dbt parse warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lpdata import PROJECT_ROOT
from lpdata.dbt import dbt_env, run_dbt


def test_dbt_bouncer_conventions_pass():
    # --warn-error: a parse warning fails the test (a documented macro argument that no longer
    # matches its definition, a doc entry for a macro that is gone, a deprecation)
    run_dbt(["--warn-error", "parse"], {}, target_path="target_bouncer", capture=True)
    env = dbt_env({}, {"DBT_TARGET_PATH": "target_bouncer"})
    bouncer = Path(sys.executable).with_name("dbt-bouncer")
    result = subprocess.run(
        [str(bouncer), "--config-file", "dbt-bouncer.yml"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    assert "All checks passed" in result.stdout
