"""The contract layer: consumers see only tested, published marts, through a read-only role."""

from __future__ import annotations

import json

import psycopg
import pytest
import yaml
from conftest import build_warehouse, copy_saved_parse, project_copy, published_relations

from lpdata import PROJECT_ROOT, contracts
from lpdata.dbt import read_artifact, run_dbt
from lpdata.lint import BOUNCER_TARGET

READER = "platform_reader"


def as_reader(wh, sql: str):
    with wh.connect() as conn:
        conn.execute(f"set role {READER}")
        return conn.execute(sql).fetchall()


def test_reader_can_select_every_published_mart(warehouse):
    marts = published_relations(warehouse.artifact("manifest.json"))
    assert len(marts) >= 4
    for relation in marts:
        as_reader(warehouse, f"select * from {relation} limit 1")


@pytest.mark.parametrize(
    "relation",
    [
        "raw.learners",
        "staging.stg_platform__learners",
        "staging.base_player__events",
        "staging.quarantined_rows",
        "intermediate.int_learner_activity_aggregated",
        "audit_core.dim_learners_v2",
    ],
)
def test_reader_cannot_read_anything_upstream(warehouse, relation):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        as_reader(warehouse, f"select * from {relation} limit 1")


def test_reader_cannot_write_published_marts(warehouse):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_reader(warehouse, f"delete from {warehouse.mart('dim_courses')}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        as_reader(warehouse, "create table core.sneaky (x int)")


def test_latest_view_points_at_latest_version_and_old_version_stays(warehouse):
    """dim_learners v2 retyped country_code; v1 stays published, deprecated, until its date."""
    types = dict(
        warehouse.query(
            """
            select table_name, data_type from information_schema.columns
            where table_schema = 'core' and column_name = 'country_code'
            """
        )
    )
    assert types == {"dim_learners_v1": "character", "dim_learners_v2": "text", "dim_learners": "text"}
    assert warehouse.scalar("select count(*) from core.dim_learners_v1") == warehouse.scalar(
        "select count(*) from core.dim_learners"
    )
    # the deprecation is said where consumers look: the table's comment (psql \\d+), the docs site's
    # description of v1 (the same text) and the ODCS contract
    assert warehouse.scalar("select obj_description('core.dim_learners_v1'::regclass, 'pg_class')").startswith(
        "DEPRECATED, removed after 2027-03-31: read v2 (`core.dim_learners_v2`"
    )
    odcs = yaml.safe_load((PROJECT_ROOT / "contracts" / "odcs" / "core.odcs.yaml").read_text())
    v1 = next(table for table in odcs["schema"] if table["name"] == "dim_learners_v1")
    assert {"property": "deprecationDate", "value": "2027-03-31"} in v1["customProperties"]
    assert {"property": "latestVersion", "value": "dim_learners_v2"} in v1["customProperties"]


def test_every_published_relation_describes_itself_and_every_column_in_the_database(warehouse):
    """`\\d+` in psql (or any catalog browser) shows what the docs site shows: the mart's
    description on every published table and on the unversioned view, and each column's on both."""
    for relation in published_relations(warehouse.artifact("manifest.json")):
        comment, columns, described = warehouse.query(
            f"""
            select obj_description('{relation}'::regclass, 'pg_class'),
                   count(*), count(col_description('{relation}'::regclass, attnum))
            from pg_attribute where attrelid = '{relation}'::regclass and attnum > 0 and not attisdropped
            """
        )[0]
        assert comment and len(comment) > 40, relation
        assert described == columns > 0, f"{relation}: {described} of {columns} columns described"
    view = warehouse.scalar("select obj_description('core.dim_learners'::regclass, 'pg_class')")
    assert view.startswith("Latest version (v2) of dim_learners: One row per learner")


def test_deprecated_version_keeps_its_published_column_order(warehouse):
    """Adding v2 must not reorder v1: consumers of select *, COPY and positional clients read it."""
    columns = [
        row[0]
        for row in warehouse.query(
            """
            select column_name from information_schema.columns
            where table_schema = 'core' and table_name = 'dim_learners_v1' order by ordinal_position
            """
        )
    ]
    assert columns == [
        "learner_id",
        "country_code",
        "occupation",
        "signed_up_at",
        "first_enrolled_at",
        "last_active_at",
        "is_active_30d",
    ]


@pytest.fixture(scope="module")
def wap_warehouse():
    return build_warehouse("wap", learners=600)


def _snapshot(wh, relation):
    return wh.query(f"select count(*), md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {relation} t")[0]


def test_a_partial_build_that_cannot_run_a_marts_test_says_what_to_add(wap_warehouse):
    """fct_course_progress has relationships tests to dim_learners and dim_courses, which are not
    upstream of it: a build of +fct_course_progress (as the coaching recipe's +coaching_targets)
    cannot run those tests (buildable selection), so the mart stays unpublished; the log names the
    models to add, and adding them publishes."""
    wh = wap_warehouse
    result = wh.dbt("build", "--select", "+fct_course_progress")
    assert (
        "NOT published (consumers keep the last good version): core.fct_course_progress_v1 "
        "(test did not run: relationships_fct_course_progress_v1_learner_id__learner_id__ref_dim_learners_: it "
        "also reads dim_learners.v2, not selected; add +dim_learners.v2 to the selection to publish, "
        "relationships_fct_course_progress_v1_course_id__course_id__ref_dim_courses_v_1_: it also reads "
        "dim_courses.v1, not selected; add +dim_courses.v1 to the selection to publish)"
    ) in " ".join(result.stdout.split())
    assert "Publish summary: published 0, held 1, skipped 0" in result.stdout
    result = wh.dbt("build", "--select", "+fct_course_progress", "+dim_learners.v2", "+dim_courses.v1")
    assert "NOT published" not in result.stdout
    assert "core.fct_course_progress_v1" in result.stdout.split("Published")[1].splitlines()[0]


def test_failing_test_keeps_the_last_good_version(wap_warehouse):
    wh = wap_warehouse
    good_courses = _snapshot(wh, "core.dim_courses_v1")
    with wh.connect() as conn:
        # bad data that passes staging but fails a mart test: two courses share one slug
        conn.execute(
            """
            insert into raw.courses (course_id, slug, title, domain, difficulty, launched_at, retired_at)
            select course_id + 100000, slug, title || ' (copy)', domain, difficulty, launched_at, null
            from raw.courses order by course_id limit 1
            """
        )
    result = wh.dbt("build", "--select", "+path:models/marts/core", check=False)
    assert result.returncode != 0
    assert "NOT published" in result.stdout and "dim_courses_v1" in result.stdout
    # consumers still read the last good version, complete
    assert _snapshot(wh, "core.dim_courses_v1") == good_courses
    assert as_reader(wh, "select count(*) from core.dim_courses")[0][0] == good_courses[0]
    # the failing mart is in the audit schema for the data scientist to inspect
    assert wh.scalar("select count(*) from audit_core.dim_courses_v1") == good_courses[0] + 1

    # fix the data: the next build publishes again
    with wh.connect() as conn:
        conn.execute("delete from raw.courses where course_id > 100000")
    wh.dbt("build", "--select", "+path:models/marts/core")
    assert _snapshot(wh, "core.dim_courses_v1") == good_courses


def _current_contracts(tmp_target: str) -> dict:
    # the same project, connection and vars as `lp lint`'s parse: start from it when it exists
    copy_saved_parse(PROJECT_ROOT / BOUNCER_TARGET, PROJECT_ROOT / tmp_target)
    run_dbt(["parse"], {}, target_path=tmp_target, capture=True)
    return read_artifact("manifest.json", tmp_target)


def test_public_contracts_match_the_committed_snapshot():
    manifest = _current_contracts("target_pytest_contracts")
    breaking, additive = contracts.check(manifest)
    assert breaking == [], "\n".join(breaking)
    assert additive == [], "public contracts changed; run `lp contracts snapshot` and commit:\n" + "\n".join(additive)


def test_removing_renaming_or_retyping_a_column_is_reported_as_breaking():
    old = json.loads(contracts.SNAPSHOT.read_text())
    new = json.loads(json.dumps(old))
    mart = new["fct_course_progress.v1"]
    mart["columns"]["pct_done"] = mart["columns"].pop("pct_complete")  # rename
    mart["columns"]["items_total"]["data_type"] = "bigint"  # retype
    del new["dim_courses.v1"]["columns"]["slug"]  # remove
    breaking, _ = contracts.compare(old, new)
    text = "\n".join(breaking)
    assert "core.fct_course_progress_v1 (fct_course_progress v1): column 'pct_complete' was removed or renamed" in text
    assert "column 'items_total' changed type integer -> bigint" in text
    assert "column 'slug' was removed or renamed" in text
    assert "add a new version" in text


def test_moving_a_column_is_breaking_and_appending_one_is_not():
    """Consumers of select *, COPY and positional clients read columns by position."""
    old = json.loads(contracts.SNAPSHOT.read_text())
    new = json.loads(json.dumps(old))
    columns = new["dim_courses.v1"]["columns"]
    assert (columns["slug"]["position"], columns["title"]["position"]) == (2, 3)
    columns["slug"]["position"], columns["title"]["position"] = 3, 2  # swapped
    appended = new["fct_course_progress.v1"]["columns"]
    appended["is_certified"] = {"data_type": "boolean", "not_null": False, "position": len(appended) + 1}
    breaking, additive = contracts.compare(old, new)
    assert breaking == [
        "core.dim_courses_v1 (dim_courses v1): column 'slug' moved from position 2 to 3. Consumers of select *, "
        "COPY and positional clients read columns by position: keep the order (new columns at the end) or add a "
        "new version of dim_courses instead.",
        "core.dim_courses_v1 (dim_courses v1): column 'title' moved from position 3 to 2. Consumers of select *, "
        "COPY and positional clients read columns by position: keep the order (new columns at the end) or add a "
        "new version of dim_courses instead.",
    ]
    assert additive == ["core.fct_course_progress_v1 (fct_course_progress v1): new column 'is_certified'"]


def test_a_column_inserted_before_existing_ones_moves_them():
    old = json.loads(contracts.SNAPSHOT.read_text())
    new = json.loads(json.dumps(old))
    columns = new["dim_courses.v1"]["columns"]
    for spec in columns.values():
        if spec["position"] >= 2:
            spec["position"] += 1
    columns["subtitle"] = {"data_type": "text", "not_null": False, "position": 2}
    breaking, additive = contracts.compare(old, new)
    assert len(breaking) == len(columns) - 2  # every column after course_id moved, the new one is not in old
    assert all("core.dim_courses_v1 (dim_courses v1): column '" in line and "moved from position" in line for line in breaking)
    assert "column 'skills' moved from position 10 to 11" in "\n".join(breaking)
    assert additive == ["core.dim_courses_v1 (dim_courses v1): new column 'subtitle'"]


def test_a_tightened_contract_is_not_breaking_but_needs_a_new_snapshot():
    """Recorded so that loosening it again later is caught as breaking."""
    new = json.loads(contracts.SNAPSHOT.read_text())
    old = json.loads(json.dumps(new))
    old["experiment_health.v1"]["columns"]["is_control"]["not_null"] = False
    old["dim_courses.v1"]["primary_key"] = []
    old["dim_courses.v1"]["contract_enforced"] = False
    assert contracts.compare(old, new) == (
        [],
        [
            "core.dim_courses_v1 (dim_courses v1): new primary key ['course_id']",
            "core.dim_courses_v1 (dim_courses v1): contract enforcement turned on",
            "experimentation.experiment_health_v1 (experiment_health v1): column 'is_control' gained a not_null constraint",
        ],
    )
    breaking, _ = contracts.compare(new, old)
    assert "experimentation.experiment_health_v1 (experiment_health v1): column 'is_control' lost its not_null" in "\n".join(
        breaking
    )


def test_a_loosened_or_changed_check_constraint_is_breaking_and_a_new_one_is_not():
    """course_recommendations promises `rank between 1 and 10` and `score > 0 and score <= 1`;
    consumers rely on them (a UI sized for 10), so dropping or widening one needs a new version."""
    old = json.loads(contracts.SNAPSHOT.read_text())
    assert {"rank between 1 and 10", "score > 0 and score <= 1"} <= set(old["course_recommendations.v1"]["checks"])
    new = json.loads(json.dumps(old))
    checks = new["course_recommendations.v1"]["checks"]
    checks.remove("rank between 1 and 10")
    checks.append("rank between 1 and 20")
    new["dim_courses.v1"]["checks"].append("n_items >= n_graded_items")
    breaking, additive = contracts.compare(old, new)
    assert breaking == [
        "recommendations.course_recommendations_v1 (course_recommendations v1): check constraint 'rank between 1 "
        "and 10' was removed or changed. Consumers rely on what it guarantees: keep it, or add a new version of "
        "course_recommendations with the new rule."
    ]
    assert additive == [
        "recommendations.course_recommendations_v1 (course_recommendations v1): new check constraint 'rank between "
        "1 and 20'",
        "core.dim_courses_v1 (dim_courses v1): new check constraint 'n_items >= n_graded_items'",
    ]
    # spelled differently in the yml, the same rule
    assert contracts.normalise_check("  Rank BETWEEN 1\n and 10 ") == "rank between 1 and 10"
    # but a changed literal is a changed rule
    assert contracts.normalise_check("level IN ('Expert')") == "level in ('Expert')" != contracts.normalise_check(
        "level in ('expert')"
    )
    # a snapshot written before checks were recorded: no check to compare
    for mart in old.values():
        del mart["checks"]
    assert contracts.compare(old, json.loads(contracts.SNAPSHOT.read_text())) == ([], [])


def test_a_snapshot_without_positions_still_compares():
    """Snapshots written before positions were recorded: no position check, every other check."""
    new = json.loads(contracts.SNAPSHOT.read_text())
    old = json.loads(json.dumps(new))
    for mart in old.values():
        for spec in mart["columns"].values():
            del spec["position"]
    assert contracts.compare(old, new) == ([], [])
    columns = new["dim_courses.v1"]["columns"]
    columns["slug"]["position"], columns["title"]["position"] = 3, 2
    columns["n_items"]["data_type"] = "bigint"
    breaking, _ = contracts.compare(old, new)
    assert breaking == [
        "core.dim_courses_v1 (dim_courses v1): column 'n_items' changed type integer -> bigint. "
        "Add a new version of dim_courses instead."
    ]


def test_snapshot_positions_are_the_column_order_of_the_built_marts(warehouse):
    snapshot = json.loads(contracts.SNAPSHOT.read_text())
    for mart in snapshot.values():
        schema, table = mart["relation"].split(".")
        built = warehouse.query(
            "select column_name, ordinal_position from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        recorded = sorted(mart["columns"], key=lambda column: mart["columns"][column]["position"])
        assert [name for name, _ in built] == recorded, mart["relation"]


def test_moving_a_column_in_the_yml_fails_the_contract_check(tmp_path):
    """End to end in a project copy: a contributor moves a column of a published version."""
    copy = project_copy(tmp_path / "project")
    yml = copy / "models" / "marts" / "core" / "_core__models.yml"
    text = yml.read_text()
    slug = text[text.index("      - name: slug\n") : text.index("      - name: title\n")]
    title = text[text.index("      - name: title\n") : text.index("      - name: domain\n")]
    assert text.count(slug + title) == 1
    yml.write_text(text.replace(slug + title, title + slug))
    run_dbt(["parse"], {}, target_path=str(tmp_path / "target"), capture=True, project_dir=copy)
    breaking, additive = contracts.check(read_artifact("manifest.json", tmp_path / "target"))
    assert [line.split(". Consumers")[0] for line in breaking] == [
        "core.dim_courses_v1 (dim_courses v1): column 'slug' moved from position 2 to 3",
        "core.dim_courses_v1 (dim_courses v1): column 'title' moved from position 3 to 2",
    ]
    assert additive == []


def test_dbt_blocks_a_breaking_change_to_a_versioned_mart(tmp_path):
    """dbt's own state comparison fails on a retyped column of a versioned, contracted model."""
    state = PROJECT_ROOT / "target_pytest_contracts"
    if not (state / "manifest.json").exists():
        _current_contracts("target_pytest_contracts")
    copy = project_copy(tmp_path / "project")
    yml = copy / "models" / "marts" / "core" / "_core__models.yml"
    text = yml.read_text()
    assert "        description: Items of the course" not in text
    yml.write_text(text.replace("      - name: items_total\n        description: Number of items in the course.\n        data_type: integer",
                                "      - name: items_total\n        description: Number of items in the course.\n        data_type: bigint"))
    result = run_dbt(
        ["ls", "--select", "state:modified", "--state", str(state)],
        {},
        target_path=str(tmp_path / "target"),
        check=False,
        capture=True,
        project_dir=copy,
    )
    assert result.returncode != 0
    assert "breaking change" in (result.stdout + result.stderr).lower()
