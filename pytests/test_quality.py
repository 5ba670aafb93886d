"""Great Expectations suites (lpdata.quality) on the published marts of the test warehouse."""

from __future__ import annotations

import json

from lpdata import quality


def test_every_public_mart_has_a_suite_from_its_contract(warehouse):
    manifest = quality.load_manifest(warehouse.target_path)
    marts = quality.public_marts(manifest)
    names = {m.name for m in marts}
    assert {"dim_learners", "dim_courses", "fct_course_progress"} <= names
    definitions = quality.load_definitions()
    for mart in marts:
        suite = quality.build_suite(mart, definitions)
        kinds = {e.expectation_type for e in suite.expectations}
        assert "expect_table_columns_to_match_set" in kinds, mart.relation
        assert mart.unique_keys, f"{mart.relation} has no key in its contract"
        assert {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"} & kinds
    progress = next(m for m in marts if m.name == "fct_course_progress")
    ranges = {
        e.column: (e.min_value, e.max_value)
        for e in quality.build_suite(progress, definitions).expectations
        if e.expectation_type == "expect_column_values_to_be_between"
    }
    assert ranges["pct_complete"] == (0, 1)


def test_check_constraints_become_ranges():
    assert quality.check_ranges("pct_complete between 0 and 1") == {
        "pct_complete": {"min_value": 0.0, "max_value": 1.0}
    }
    assert quality.check_ranges("score > 0 and score <= 1") == {
        "score": {"min_value": 0.0, "strict_min": True, "max_value": 1.0, "strict_max": False}
    }
    assert quality.check_ranges("difficulty in ('beginner', 'advanced')") == {
        "difficulty": {"value_set": ["beginner", "advanced"]}
    }
    assert quality.check_ranges("n_graded_items between 0 and n_items") == {}


def test_suites_pass_on_the_test_warehouse(warehouse, tmp_path):
    docs = tmp_path / "data_docs"
    assert quality.run(warehouse.env, target_path=warehouse.target_path, docs_dir=docs)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["success"] and not summary["failures"]
    assert len(summary["suites"]) == len(quality.public_marts(quality.load_manifest(warehouse.target_path)))
    assert (docs / "index.html").exists()
    assert list((docs / "validations").rglob("*.html")), "Data Docs hold no validation page"


def test_a_planted_violation_fails_its_suite(warehouse, tmp_path):
    """Every course at 100%: allowed by the table's constraints, caught by the distribution expectation."""
    relation = warehouse.mart("fct_course_progress")
    with warehouse.connect() as conn:
        conn.execute(f"create table public.planted_backup as select learner_id, course_id, pct_complete from {relation}")
        conn.execute(f"update {relation} set pct_complete = 1")
        conn.commit()
    try:
        assert not quality.run(warehouse.env, target_path=warehouse.target_path, docs_dir=tmp_path / "data_docs")
    finally:
        with warehouse.connect() as conn:
            conn.execute(
                f"update {relation} as p set pct_complete = b.pct_complete from public.planted_backup as b "
                "where b.learner_id = p.learner_id and b.course_id = p.course_id"
            )
            conn.execute("drop table public.planted_backup")
    summary = json.loads((tmp_path / "summary.json").read_text())
    failed = {s["suite"] for s in summary["suites"] if s["failed"]}
    assert failed == {relation}
    assert any("expect_column_mean_to_be_between" in f and "pct_complete" in f for f in summary["failures"])
