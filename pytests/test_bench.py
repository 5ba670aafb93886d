"""`lp bench`: the ratios it prints against the targets, its table, and its measured dbt runs and
lookups.

The benchmark itself runs for minutes to hours (docs/benchmarks.md); these tests check what decides
its verdicts: the arithmetic of the ratios, the table, and that a measured dbt run reports time,
memory and PostgreSQL's temporary files and the lookup reads the published lists on a real server.
"""

from __future__ import annotations

import json

import pytest
from conftest import copy_saved_parse

from lpdata import PROJECT_ROOT, bench

# a run at 500k learners: scan, full build, daily run, floor full / daily
RUN_500K = {"scan": 3.79, "full": 2181.0, "daily": 1935.0, "floor": {"full_build_s": 41.2, "daily_build_s": 34.7}}


def test_ratios_of_a_run_at_500k():
    q = bench.ratios(learners=500_000, **RUN_500K)
    assert q["full_data_work_s"] == pytest.approx(2139.8) and q["daily_data_work_s"] == pytest.approx(1900.3)
    # (1935 - 34.7) / (2181 - 41.2): the daily run redoes 89% of the full build's data work
    assert q["data_work_ratio"]["value"] == pytest.approx(0.8881, abs=1e-4)
    assert q["data_work_ratio"]["target"] == 0.10 and q["data_work_ratio"]["meets"] is False
    # 1935 / 34.7
    assert q["daily_over_floor"]["value"] == pytest.approx(55.76)
    assert q["daily_over_floor"]["applies"] and q["daily_over_floor"]["meets"] is False
    # 2139.8 / 3.79
    assert q["full_data_work_scans"]["value"] == pytest.approx(564.6)
    assert q["full_data_work_scans"]["meets"] is False


def test_ratios_within_the_targets_and_where_they_apply():
    # data work 10 of 100 s, daily run 2x its floor, full data work 100 scans: all three on the target
    q = bench.ratios(learners=50_000, scan=1.0, full=120.0, daily=20.0, floor={"full_build_s": 20.0, "daily_build_s": 10.0})
    assert q["data_work_ratio"]["value"] == pytest.approx(0.10) and q["data_work_ratio"]["meets"]
    assert q["daily_over_floor"]["value"] == pytest.approx(2.0) and q["daily_over_floor"]["meets"]
    assert q["full_data_work_scans"]["value"] == pytest.approx(100.0) and q["full_data_work_scans"]["meets"]
    # the 3x target is set for 500,000 learners and more: printed below, not applied
    assert not q["daily_over_floor"]["applies"]
    assert bench.ratios(learners=500_000, scan=1.0, full=120.0, daily=20.0,
                        floor={"full_build_s": 20.0, "daily_build_s": 10.0})["daily_over_floor"]["applies"]


def test_ratios_without_data_work_have_no_verdict():
    # a full build faster than its floor (a tiny scale on a loaded machine): no data work ratio
    q = bench.ratios(learners=300, scan=0.01, full=20.0, daily=19.0, floor={"full_build_s": 25.0, "daily_build_s": 18.0})
    assert q["data_work_ratio"] == {"value": None, "target": 0.10, "meets": None}
    assert q["full_data_work_scans"]["value"] == pytest.approx(-500.0) and q["full_data_work_scans"]["meets"] is None
    assert q["daily_over_floor"]["value"] == pytest.approx(1.06) and q["daily_over_floor"]["meets"]
    # a daily run faster than its floor (noise at a tiny scale): a value, no verdict
    q = bench.ratios(learners=3000, scan=0.02, full=28.2, daily=26.9, floor={"full_build_s": 25.4, "daily_build_s": 31.3})
    assert q["data_work_ratio"]["value"] == pytest.approx(-1.5714, abs=1e-4) and q["data_work_ratio"]["meets"] is None
    assert q["full_data_work_scans"]["value"] == pytest.approx(140.0) and q["full_data_work_scans"]["meets"] is False


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]
    assert bench.percentile(values, 0.50) == 50.0
    assert bench.percentile(values, 0.99) == 99.0
    assert bench.percentile(values, 1.0) == 100.0
    assert bench.percentile([7.0], 0.99) == 7.0


LOOKUP = {
    "readers": 20, "seconds": 10.0, "pause_ms": 0.0, "learners_with_lists": 480_000, "lookups": 52_000,
    "lookups_per_s": 5200,
    "rows_per_lookup": 31.5, "p50_ms": 2.04, "p99_ms": 12.5, "max_ms": 40.2, "target_p99_ms": 10.0, "meets": False,
    "plan": ["Index Scan using course_recommendations_v1_pkey on course_recommendations_v1  (cost=0.42..9.10 rows=46)",
             "  Index Cond: (learner_id = '770'::smallint)"],
    "uses_index": True,
    "index_node": "Index Scan", "index": "course_recommendations_v1_pkey",
    "table": "recommendations.course_recommendations_v1",
    "learner_id_indexes": ["CREATE UNIQUE INDEX course_recommendations_v1_pkey ON ... (learner_id, module, rank)"],
}


def _result(with_floor: bool, learners: int = 500_000) -> dict:
    r = {
        "learners": learners, "seed": 42, "database": "x", "server_version": 150020, "server_release": "15.20",
        "generate": {"seconds": 2.0, "rows": 10, "events": 5, "rows_per_s": 5, "peak_rss_mb": 300.0},
        "scan": {"seconds": RUN_500K["scan"], "events": 5},
        "copy_events_s": 20.8,
        "database_mb": 1234,
        "full_build": {"seconds": RUN_500K["full"], "dbt_peak_rss_mb": 400.0, "pg_temp_mb": 2048.0},
        "incremental_build": {"seconds": RUN_500K["daily"], "dbt_peak_rss_mb": 410.0, "pg_temp_mb": 1024.0,
                              "slowest": [], "by_kind_s": {}},
        "lookup": dict(LOOKUP),
        "lookup_paced": dict(LOOKUP, pause_ms=5.0, lookups=37_000, lookups_per_s=3700, p50_ms=0.25, p99_ms=0.86,
                             max_ms=9.1, meets=True),
    }
    if with_floor:
        r["floor"] = {"learners": 200, "nodes": 334, **RUN_500K["floor"]}
        r["ratios"] = bench.ratios(learners=learners, scan=RUN_500K["scan"], full=RUN_500K["full"],
                                   daily=RUN_500K["daily"], floor=RUN_500K["floor"])
    return r


def test_table_prints_each_ratio_with_its_target_and_verdict():
    text = bench.format_table(_result(with_floor=True))
    # a blank line before the table, so it renders as markdown
    assert text.startswith("Benchmark: 500,000 learners (seed 42), database x, PostgreSQL 15.20\n\n| measure |")
    assert "| floor (334 nodes, 200 learners): full / daily build | 41.2 s / 34.7 s | | |" in text
    assert ("| data work ratio: (daily - daily floor) / (full - full floor) | (1935.0 - 34.7) / (2181.0 - 41.2) s "
            "| 88.8% | <= 10%: MISSES |") in text
    assert "| daily run over its floor: daily / daily floor | 1935.0 / 34.7 s | 55.8x | <= 3x: MISSES |" in text
    assert ("| full data work in scans: (full - full floor) / scan | (2181.0 - 41.2) / 3.79 s | 564.6 scans "
            "| <= 100 scans: MISSES |") in text
    assert ("| lookup of one learner's lists, 20 concurrent readers, no pause, 10 s | p50 2.0 ms, p99 12.5 ms, "
            "max 40.2 ms (52,000 lookups, 31.5 rows each) | 5,200 lookups/s | p99 <= 10 ms: MISSES |") in text
    assert ("| lookup of one learner's lists, 20 concurrent readers, each pausing 5 ms, 10 s | p50 0.2 ms, "
            "p99 0.9 ms, max 9.1 ms (37,000 lookups, 31.5 rows each) | 3,700 lookups/s | p99 <= 10 ms: meets |") in text
    assert ("lookup plan (EXPLAIN as platform_reader): Index Scan using course_recommendations_v1_pkey on "
            "course_recommendations_v1: reads course_recommendations_v1_pkey; indexes of "
            "recommendations.course_recommendations_v1 leading with learner_id: CREATE UNIQUE INDEX") in text
    assert "memory: generator 300 MB peak RSS; dbt 400 MB (full) / 410 MB (daily)" in text
    assert "PostgreSQL temporary files 2,048 MB (full) / 1,024 MB (daily)" in text


def test_table_marks_where_a_target_does_not_apply_and_without_the_floor():
    r = _result(with_floor=True, learners=50_000)
    assert "| 55.8x | <= 3x from 500,000 learners, not applied here: would miss |" in bench.format_table(r)
    r["ratios"]["data_work_ratio"].update(value=None, meets=None)
    assert "| n/a | <= 10%: no verdict |" in bench.format_table(r)
    # --no-floor: no ratios, and the table says so; the lookup and the memory still print
    text = bench.format_table(_result(with_floor=False))
    assert "| ratios | not computed: they need the floor (run without --no-floor) | | |" in text
    assert "data work" not in text and "p99 12.5 ms" in text and "memory: " in text


def test_table_says_when_the_lookup_reads_no_index():
    r = _result(with_floor=True)
    r["lookup"].update(uses_index=False, index_node=None, index=None, learner_id_indexes=[], plan=[
        "Sort  (cost=10.37..10.49 rows=46 width=67)",
        "  Sort Key: course_recommendations_v1.module, course_recommendations_v1.rank",
        "  ->  Seq Scan on course_recommendations_v1  (cost=0.00..2000.00 rows=46 width=67)",
        "        Filter: (learner_id = '770'::smallint)",
    ])
    assert ("lookup plan (EXPLAIN as platform_reader): Sort <- Seq Scan on course_recommendations_v1: reads NO "
            "index; indexes of recommendations.course_recommendations_v1 leading with learner_id: none"
            ) in bench.format_table(r)


# per-node seconds of a main full build and of a small-catalogue build (tests in brackets)
MAIN_NODES = {"stg_events": 50.0, "int_reco_lists": 10.0, "fct_sessions": 38.0, "tiny": 2.0, "x [test]": 99.0}
SMALL_NODES = {"stg_events": 5.0, "int_reco_lists": 60.0, "fct_sessions": 4.0, "tiny": 0.5, "new_model": 0.5,
               "x [test]": 1.0}


def test_share_ratios_name_the_model_whose_share_grows_on_a_small_catalogue():
    shares = bench.model_shares(SMALL_NODES)
    assert sum(shares.values()) == pytest.approx(1.0) and "x [test]" not in shares
    out = bench.share_ratios(SMALL_NODES, MAIN_NODES)
    assert [r["node"] for r in out["slowest"]][:3] == ["int_reco_lists", "stg_events", "fct_sessions"]
    worst = out["max_ratio"]
    # 60 of 70 s of model time against 10 of 100 s: 0.857 / 0.1
    assert worst["node"] == "int_reco_lists" and worst["share"] == pytest.approx(0.8571, abs=1e-4)
    assert worst["main_share"] == pytest.approx(0.1) and worst["ratio"] == pytest.approx(8.57)
    assert not out["meets"]
    new = next(r for r in out["slowest"] if r["node"] == "new_model")
    assert new["main_share"] is None and new["ratio"] is None
    # the same shape of build at both sizes: every ratio 1, within the target
    assert bench.share_ratios(MAIN_NODES, MAIN_NODES)["max_ratio"]["ratio"] == pytest.approx(1.0)
    assert bench.share_ratios(MAIN_NODES, MAIN_NODES)["meets"]


def test_table_prints_the_small_catalogue():
    r = _result(with_floor=False)
    r["small_catalogue"] = {"learners": 3000, "courses": 12, "full_build_s": 70.0, "nodes_s": SMALL_NODES,
                            **bench.share_ratios(SMALL_NODES, MAIN_NODES)}
    text = bench.format_table(r)
    assert "small catalogue (3,000 learners, 12 courses): full build 70.0 s" in text
    assert "60.00 s   85.7%  (10.0%, 8.6x)  int_reco_lists" in text
    assert "largest share ratio (models with 5%+ of the small build): int_reco_lists 8.6x; target <= 3x: MISSES" in text
    # a build spread over many models: none is compared, and none misses
    even = {f"m{i}": 1.0 for i in range(40)}
    r["small_catalogue"].update(bench.share_ratios(even, even))
    assert "no model holds 5% of the small build: meets" in bench.format_table(r)


def test_measured_dbt_run_reports_time_memory_and_temp_files(warehouse):
    # `dbt parse` loads the whole project (hundreds of MB resident) and leaves the warehouse alone
    target = f"{warehouse.target_path}_bench"
    copy_saved_parse(PROJECT_ROOT / warehouse.target_path, PROJECT_ROOT / target)  # same connection and vars
    out = bench.run_dbt_measured(["parse", "--quiet", "--vars", json.dumps(warehouse.vars)], warehouse.env, target)
    assert out["seconds"] > 0
    assert out["dbt_peak_rss_mb"] and 50 < out["dbt_peak_rss_mb"] < 4096
    assert out["pg_temp_files"] >= 0 and out["pg_temp_mb"] >= 0
    with pytest.raises(RuntimeError, match="failed with exit code"):
        bench.run_dbt_measured(["--warn-error", "run", "--select", "no_such_model_anywhere"], warehouse.env,
                               f"{warehouse.target_path}_bench")


def test_lookups_read_one_learners_lists_as_the_consumers_role_by_index(warehouse):
    out = bench.measure_lookups(warehouse.env, seconds=0.5, readers=2)
    assert out["learners_with_lists"] > 0 and out["lookups"] > 0
    paced = bench.measure_lookups(warehouse.env, seconds=0.5, readers=2, pause_ms=50)
    assert 0 < paced["lookups"] <= 2 * 11 < out["lookups"]  # at most one lookup per 50 ms per reader
    assert out["rows_per_lookup"] > 0
    assert 0 < out["p50_ms"] <= out["p99_ms"] <= out["max_ms"]
    assert out["table"] == "recommendations.course_recommendations_v1"
    # the published table's key (learner_id, module, rank) serves the lookup, in the order it reads
    assert len(out["learner_id_indexes"]) == 1
    assert out["uses_index"] and not any("Sort" in line for line in out["plan"]), out["plan"]


def test_nodes_count_to_their_products_group():
    nodes = {
        "model.p.int_reco_lists": {"resource_type": "model", "group": "recommendations"},
        "model.p.stg_platform__learners": {"resource_type": "model", "group": "data_platform"},
        "test.p.ranked_list_x": {"resource_type": "test", "attached_node": "model.p.int_reco_lists",
                                 "depends_on": {"nodes": ["model.p.int_reco_lists"]}},
        "test.p.assert_y": {"resource_type": "test", "depends_on": {"nodes": ["model.p.int_reco_lists",
                                                                              "model.p.stg_platform__learners"]}},
        "test.p.source_types": {"resource_type": "test", "depends_on": {"nodes": ["source.p.raw.events"]}},
        "test.p.unique_skills": {"resource_type": "test", "depends_on": {"nodes": ["seed.p.skills"]}},
        "unit_test.p.int_reco_lists.t": {"resource_type": "unit_test", "depends_on": {"nodes": ["model.p.int_reco_lists"]}},
    }
    groups = {uid: bench._node_group(node, nodes) for uid, node in nodes.items()}
    assert groups == {
        "model.p.int_reco_lists": "recommendations", "model.p.stg_platform__learners": "data_platform",
        "test.p.ranked_list_x": "recommendations", "test.p.assert_y": "recommendations",
        "test.p.source_types": "data_platform", "test.p.unique_skills": "reference",
        "unit_test.p.int_reco_lists.t": "recommendations",
    }
    assert bench._node_group({"resource_type": "operation"}, nodes) == bench.HOOKS_GROUP
    assert bench._node_group({"resource_type": "seed"}, nodes) == "reference"


def test_table_prints_where_the_daily_data_work_goes_by_group():
    r = _result(with_floor=True, learners=50_000)
    r["full_build"]["by_group_s"] = {"recommendations": 120.0, "data_platform": 80.0}
    r["incremental_build"]["by_group_s"] = {"recommendations": 110.0, "data_platform": 20.0}
    r["floor"].update(full_by_group_s={"recommendations": 20.0, "data_platform": 10.0},
                      daily_by_group_s={"recommendations": 20.0, "data_platform": 10.0})
    rows = {row["group"]: row for row in bench.group_work(r)}
    assert rows["recommendations"]["daily_work_s"] == 90.0 and rows["recommendations"]["daily_over_full"] == 0.9
    assert rows["data_platform"]["daily_work_s"] == 10.0 and rows["data_platform"]["daily_over_full"] == round(10 / 70, 3)
    assert rows["recommendations"]["daily_work_share"] == 0.9
    text = bench.format_table(r)
    assert "  recommendations          120.0 /   110.0 s; data work    90.0 s,  90%,   90% of the full build's" in text
    assert "  data_platform             80.0 /    20.0 s; data work    10.0 s,  10%,   14% of the full build's" in text
    # without the floor, the node times alone
    r.pop("floor")
    text = bench.format_table(r)
    assert "  recommendations          120.0 /   110.0 s\n" in text and "data work" not in text
