"""Great Expectations suites on every public mart, validated on the relations consumers read.

One suite per public mart version of the dbt manifest (``access: public``; the consumer relation is
``config.meta.publish_schema`` + alias), so marts added later are covered without touching this file.
Each suite is derived from the mart's contract (columns, not-null, keys, accepted values, check
constraints, name-based ranges) plus the hand-written expectations of ``quality/expectations.yml``.
One checkpoint validates them all and writes static Data Docs to ``artifacts/quality/data_docs/``,
whose scripts and styles load from local copies (lpdata.report.assets), so they open without network.

``run(env)`` is called by ``lp run`` after ``dbt build``; it returns False when any expectation fails.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import PROJECT_ROOT, db
from .contracts import public_models
from .dbt import read_artifact

EXPECTATIONS_FILE = PROJECT_ROOT / "quality" / "expectations.yml"
DATA_DOCS_DIR = PROJECT_ROOT / "artifacts" / "quality" / "data_docs"
SITE_NAME = "lp_quality"
DATASOURCE = "warehouse"
NUMERIC_TYPES = ("int", "bigint", "smallint", "integer", "numeric", "decimal", "double", "real", "float")


@dataclass
class Mart:
    """A public mart version as the manifest describes it."""

    name: str
    version: str | None
    publish_schema: str
    alias: str
    columns: dict[str, dict[str, Any]]
    not_null: list[str] = field(default_factory=list)
    unique_keys: list[list[str]] = field(default_factory=list)
    accepted_values: dict[str, list] = field(default_factory=dict)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (column or None, expression)

    @property
    def relation(self) -> str:
        return f"{self.publish_schema}.{self.alias}"


# --- the manifest ----------------------------------------------------------------------------


def load_manifest(target_path: str | None = None) -> dict:
    return read_artifact("manifest.json", target_path)


def public_marts(manifest: dict) -> list[Mart]:
    """Every public model with a publish schema, with what its contract and tests say."""
    nodes = manifest["nodes"]
    marts: dict[str, Mart] = {}
    for node in public_models(manifest):
        publish_schema = (node["config"].get("meta") or {}).get("publish_schema")
        if not publish_schema:
            continue
        mart = Mart(
            name=node["name"],
            version=None if node.get("version") is None else str(node["version"]),
            publish_schema=publish_schema,
            alias=node["alias"],
            columns=node.get("columns", {}),
        )
        for constraint in node.get("constraints", []):
            _add_constraint(mart, constraint, None)
        for column_name, column in mart.columns.items():
            for constraint in column.get("constraints", []):
                _add_constraint(mart, constraint, column_name)
        marts[node["unique_id"]] = mart

    for test in nodes.values():
        if test["resource_type"] != "test" or test.get("attached_node") not in marts:
            continue
        mart = marts[test["attached_node"]]
        meta = test.get("test_metadata") or {}
        kwargs = meta.get("kwargs") or {}
        column = test.get("column_name") or kwargs.get("column_name")
        if meta.get("name") == "not_null" and column:
            _append_unique(mart.not_null, column)
        elif meta.get("name") == "unique" and column:
            _append_unique(mart.unique_keys, [column])
        elif meta.get("name") == "unique_combination_of_columns":
            _append_unique(mart.unique_keys, list(kwargs.get("combination_of_columns") or []))
        elif meta.get("name") == "key_enforced_by_unique_index":
            _append_unique(mart.unique_keys, list(kwargs.get("columns") or [column]))
        elif meta.get("name") == "ranked_list":
            # tests/generic/ranked_list_rules.sql: no item twice and ranks 1..n within a list
            list_columns = list(kwargs.get("list_columns") or [])
            _append_unique(mart.unique_keys, list_columns + [kwargs.get("item_column")])
            _append_unique(mart.unique_keys, list_columns + [kwargs.get("rank_column", "rank")])
        elif meta.get("name") == "accepted_values" and column:
            mart.accepted_values[column] = list(kwargs.get("values") or [])
    return sorted(marts.values(), key=lambda m: (m.publish_schema, m.alias))


def _append_unique(items: list, item) -> None:
    if item and item not in items:
        items.append(item)


def _add_constraint(mart: Mart, constraint: dict, column: str | None) -> None:
    kind = constraint.get("type")
    columns = constraint.get("columns") or ([column] if column else [])
    if kind == "not_null" and column:
        _append_unique(mart.not_null, column)
    elif kind in ("primary_key", "unique") and columns:
        _append_unique(mart.unique_keys, list(columns))
        if kind == "primary_key":
            for c in columns:
                _append_unique(mart.not_null, c)
    elif kind == "check" and constraint.get("expression"):
        mart.checks.append((column, constraint["expression"]))


# --- suites ----------------------------------------------------------------------------------

_NUM = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"


def check_ranges(expression: str) -> dict[str, dict[str, Any]]:
    """Ranges and value sets that a simple check constraint states, per column.

    Understands `c between a and b`, `c >= a`, `c > a`, `c <= b`, `c < b` and `c in ('x', ...)`,
    joined by `and`; anything else (comparisons between columns, functions) is left to dbt's tests.
    """
    out: dict[str, dict[str, Any]] = {}
    expr = expression.strip()
    m = re.fullmatch(rf"(\w+)\s+between\s+{_NUM}\s+and\s+{_NUM}", expr, re.I)
    if m:
        return {m[1]: {"min_value": float(m[2]), "max_value": float(m[3])}}
    m = re.fullmatch(r"(\w+)\s+in\s*\(([^)]*)\)", expr, re.I)
    if m:
        values = [v.strip().strip("'") for v in m[2].split(",")]
        return {m[1]: {"value_set": values}}
    for part in re.split(r"\s+and\s+", expr, flags=re.I):
        m = re.fullmatch(rf"(\w+)\s*(>=|>|<=|<)\s*{_NUM}", part.strip())
        if not m:
            return {}
        bounds = out.setdefault(m[1], {})
        if m[2] in (">=", ">"):
            bounds["min_value"] = float(m[3])
            bounds["strict_min"] = m[2] == ">"
        else:
            bounds["max_value"] = float(m[3])
            bounds["strict_max"] = m[2] == "<"
    return out


def _is_numeric(data_type: str | None) -> bool:
    data_type = (data_type or "").lower()
    return not data_type.endswith("[]") and data_type.startswith(NUMERIC_TYPES)


def _class_name(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _expectation(kind: str, **kwargs):
    import great_expectations.expectations as gxe

    try:
        cls = getattr(gxe, _class_name(kind))
    except AttributeError:
        raise RuntimeError(f"{EXPECTATIONS_FILE.name}: unknown expectation {kind!r}") from None
    return cls(**kwargs)


def load_definitions(path: Path = EXPECTATIONS_FILE) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def contract_expectations(mart: Mart, definitions: dict) -> list:
    """Expectations that follow from the mart's dbt contract and tests."""
    spec = (definitions.get("marts") or {}).get(mart.name) or {}
    exps = [_expectation("expect_table_columns_to_match_set", column_set=list(mart.columns), exact_match=True)]
    if not spec.get("may_be_empty"):
        exps.append(_expectation("expect_table_row_count_to_be_between", min_value=1))
    for column in mart.not_null:
        exps.append(_expectation("expect_column_values_to_not_be_null", column=column))
    for key in mart.unique_keys:
        if len(key) == 1:
            exps.append(_expectation("expect_column_values_to_be_unique", column=key[0]))
        else:
            exps.append(_expectation("expect_compound_columns_to_be_unique", column_list=key))
    value_sets = dict(mart.accepted_values)
    ranges: dict[str, dict[str, Any]] = {}
    for _, expression in mart.checks:
        for column, rule in check_ranges(expression).items():
            if column not in mart.columns:
                continue
            if "value_set" in rule:
                value_sets.setdefault(column, rule["value_set"])
            else:
                ranges.setdefault(column, {}).update(rule)
    for rule in definitions.get("range_rules") or []:
        for column, meta in mart.columns.items():
            if column in ranges or not _is_numeric(meta.get("data_type")):
                continue
            if re.fullmatch(rule["pattern"], column):
                ranges[column] = {k: float(rule[k]) for k in ("min", "max") if k in rule}
                ranges[column] = {f"{k}_value": v for k, v in ranges[column].items()}
    for column, values in value_sets.items():
        exps.append(_expectation("expect_column_values_to_be_in_set", column=column, value_set=values))
    for column, rule in sorted(ranges.items()):
        exps.append(_expectation("expect_column_values_to_be_between", column=column, **rule))
    return exps


def hand_written_expectations(mart: Mart, definitions: dict) -> list:
    spec = (definitions.get("marts") or {}).get(mart.name) or {}
    exps = []
    if "row_count" in spec:
        bounds = spec["row_count"]
        exps.append(
            _expectation(
                "expect_table_row_count_to_be_between",
                min_value=bounds.get("min"),
                max_value=bounds.get("max"),
            )
        )
    for item in spec.get("expectations") or []:
        ((kind, kwargs),) = item.items()
        exps.append(_expectation(kind, **(kwargs or {})))
    return exps


def build_suite(mart: Mart, definitions: dict):
    import great_expectations as gx

    # expectations passed to the constructor: add_expectation() would need an active data context
    return gx.ExpectationSuite(
        name=mart.relation,
        expectations=contract_expectations(mart, definitions) + hand_written_expectations(mart, definitions),
        meta={"mart": mart.name, "version": mart.version, "source": "dbt contract + quality/expectations.yml"},
    )


# --- running ---------------------------------------------------------------------------------


def suite_parameters(env: dict[str, str], marts: list[Mart]) -> dict[str, float]:
    """Values the hand-written bounds refer to, read from the published core marts."""
    params: dict[str, float] = {}
    wanted = {"dim_learners": "n_learners", "dim_courses": "n_courses"}
    latest: dict[str, Mart] = {}
    for mart in marts:
        if mart.name in wanted:
            best = latest.get(mart.name)
            if best is None or int(mart.version or 0) > int(best.version or 0):
                latest[mart.name] = mart
    with db.connect(env) as conn:
        for name, mart in latest.items():
            row = conn.execute(f"select to_regclass('{mart.relation}') is not null").fetchone()
            params[wanted[name]] = (
                conn.execute(f"select count(*) from {mart.relation}").fetchone()[0] if row[0] else 0
            )
    for key in wanted.values():
        params.setdefault(key, 0)
    return params


def published_relations(env: dict[str, str], marts: list[Mart]) -> set[str]:
    with db.connect(env) as conn:
        return {
            m.relation for m in marts
            if conn.execute("select to_regclass(%s) is not null", (m.relation,)).fetchone()[0]
        }


def _data_docs_site(docs_dir: Path) -> dict:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def run(
    env: dict[str, str],
    *,
    target_path: str | None = None,
    docs_dir: Path = DATA_DOCS_DIR,
    definitions_path: Path = EXPECTATIONS_FILE,
    verbose: bool = True,
) -> bool:
    """Validate every published public mart; write Data Docs; True when every expectation passed."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    manifest = load_manifest(target_path)
    marts = public_marts(manifest)
    definitions = load_definitions(definitions_path)
    present = published_relations(env, marts)
    missing = [m.relation for m in marts if m.relation not in present]
    params = suite_parameters(env, marts)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    docs_dir = Path(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(site_name=SITE_NAME, site_config=_data_docs_site(docs_dir))
    # One datasource per consumer schema, the schema set in its connection (GX deprecates schema_name).
    datasources: dict[str, Any] = {}

    definitions_list = []
    for mart in marts:
        if mart.relation not in present:
            continue
        if mart.publish_schema not in datasources:
            datasources[mart.publish_schema] = context.data_sources.add_postgres(
                name=f"{DATASOURCE}_{mart.publish_schema}",
                connection_string=db.sqlalchemy_url(env, schema=mart.publish_schema),
            )
        asset = datasources[mart.publish_schema].add_table_asset(name=mart.relation, table_name=mart.alias)
        batch = asset.add_batch_definition_whole_table("whole table")
        suite = context.suites.add(build_suite(mart, definitions))
        definitions_list.append(
            context.validation_definitions.add(gx.ValidationDefinition(name=mart.relation, data=batch, suite=suite))
        )

    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="public_marts",
            validation_definitions=definitions_list,
            actions=[UpdateDataDocsAction(name="data_docs", site_names=[SITE_NAME])],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    result = checkpoint.run(expectation_parameters=params)
    # GE's pages load Bootstrap, jQuery, Vega and the rest from CDNs: point them at local copies
    from .report.assets import localise_data_docs

    for url in localise_data_docs(docs_dir):
        print(f"warning: the Data Docs load {url} from the network (no local copy in lpdata.report.assets)")

    rows = []
    failures = []
    for validation in result.run_results.values():
        suite_name = validation.suite_name
        stats = validation.statistics
        rows.append((suite_name, stats["evaluated_expectations"], stats["unsuccessful_expectations"]))
        for er in validation.results:
            if not er.success:
                cfg = er.expectation_config
                kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
                detail = er.exception_info.get("exception_message") if er.exception_info.get("raised_exception") else None
                observed = (er.result or {}).get("observed_value", (er.result or {}).get("unexpected_count"))
                failures.append(f"{suite_name}: {cfg.type} {kwargs} -> {detail or f'observed {observed}'}")
    ok = bool(result.success) and not missing
    summary = {
        "success": ok,
        "suite_parameters": params,
        "suites": [{"suite": s, "expectations": n, "failed": f} for s, n, f in rows],
        "missing_published_marts": missing,
        "failures": failures,
        "data_docs": str(docs_dir / "index.html"),
    }
    (docs_dir.parent / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    if verbose:
        print(format_summary(summary))
    return ok


def format_summary(summary: dict) -> str:
    width = max([len(s["suite"]) for s in summary["suites"]] + [5])
    lines = [f"{'suite (published mart)':<{width}}  expectations  failed"]
    for s in sorted(summary["suites"], key=lambda s: s["suite"]):
        lines.append(f"{s['suite']:<{width}}  {s['expectations']:>12}  {s['failed']:>6}")
    total = sum(s["expectations"] for s in summary["suites"])
    failed = sum(s["failed"] for s in summary["suites"])
    lines.append(f"{'total':<{width}}  {total:>12}  {failed:>6}")
    params = ", ".join(f"{k}={v:,}" for k, v in summary["suite_parameters"].items())
    lines.append(f"suite parameters: {params}")
    for relation in summary["missing_published_marts"]:
        lines.append(f"MISSING: {relation} is not published (its build or tests failed, or it was never built)")
    for failure in summary["failures"]:
        lines.append(f"FAILED: {failure}")
    lines.append(f"Data Docs: {summary['data_docs']}")
    lines.append("quality checks passed" if summary["success"] else "quality checks FAILED")
    return "\n".join(lines)
