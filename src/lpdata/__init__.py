"""lpdata: tooling around the learning platform's dbt project (database, synthetic data, orchestration)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
