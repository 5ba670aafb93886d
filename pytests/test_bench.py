"""`lp bench`: the bounds it prints against the targets, and its measured dbt runs.

The benchmark itself runs for minutes to hours (docs/benchmarks.md); these tests check what decides
its verdicts: the arithmetic of the bounds, and that a measured dbt run reports time, memory and
PostgreSQL's temporary files on a real server.
"""

from __future__ import annotations

import pytest

from lpdata import bench

# a run at 500k learners: scan, full build, bare copy, floor full / daily
RUN_500K = {"scan": 2.08, "full": 1158.0, "copy": 11.6, "floor": {"full_build_s": 19.4, "daily_build_s": 15.7}}


def test_bounds_of_a_run_at_500k():
    b = bench.bounds(**RUN_500K)
    # any full build: floor + one bare copy of the events = 31.0 s = 14.9 scans > 10 scans (20.8 s)
    assert b["full_min_s"] == pytest.approx(31.0)
    assert b["full_min_scans"] == pytest.approx(14.9)
    assert b["full_target_s"] == pytest.approx(20.8)
    assert not b["full_target_reachable"]
    # the daily target alone (3% of 1,158 s = 34.7 s) is above the daily floor: not excluded by it
    assert b["daily_target_s"] == pytest.approx(34.74)
    assert b["daily_target_reachable"]
    # both: 0.3 scans = 0.624 s for the whole daily run, 25x less than its floor
    assert b["joint_daily_target_s"] == pytest.approx(0.624)
    assert b["joint_shortfall_x"] == pytest.approx(25.2)
    assert not b["joint_reachable"]


def test_joint_target_needs_both_bounds_met():
    # a (hypothetical) slow scan: the daily floor fits in 0.3 scans, but the full floor does not fit in 10
    b = bench.bounds(scan=60.0, full=5000.0, copy=700.0, floor={"full_build_s": 20.0, "daily_build_s": 15.0})
    assert b["joint_daily_target_s"] == pytest.approx(18.0)
    assert not b["full_target_reachable"]
    assert not b["joint_reachable"]
    b = bench.bounds(scan=60.0, full=5000.0, copy=100.0, floor={"full_build_s": 20.0, "daily_build_s": 15.0})
    assert b["full_target_reachable"] and b["joint_reachable"]


def _result(with_floor: bool) -> dict:
    r = {
        "learners": 1000, "seed": 42, "database": "x", "server_version": 150020, "server_release": "15.20",
        "generate": {"seconds": 2.0, "rows": 10, "events": 5, "rows_per_s": 5, "peak_rss_mb": 300.0},
        "scan": {"seconds": 2.08, "events": 5},
        "copy_events_s": 11.6,
        "database_mb": 1234,
        "full_build": {"seconds": 1158.0, "dbt_peak_rss_mb": 400.0, "pg_temp_mb": 2048.0},
        "incremental_build": {"seconds": 1195.0, "dbt_peak_rss_mb": 410.0, "pg_temp_mb": 1024.0,
                              "slowest": [], "by_kind_s": {}},
        "ratios": {"incremental_over_full": 1.032, "full_over_scan": 556.7},
        "targets": {"incremental_over_full": 0.03, "full_over_scan": 10.0},
        "meets": {"incremental_over_full": False, "full_over_scan": False},
    }
    if with_floor:
        r["floor"] = {"learners": 200, "nodes": 334, **RUN_500K["floor"]}
        r["bounds"] = bench.bounds(**RUN_500K)
    return r


def test_table_prints_memory_and_bounds():
    text = bench.format_table(_result(with_floor=True))
    assert text.startswith("Benchmark: 1,000 learners (seed 42), database x, PostgreSQL 15.20\n")
    assert "memory: generator 300 MB peak RSS; dbt 400 MB (full) / 410 MB (daily)" in text
    assert "PostgreSQL temporary files 2,048 MB (full) / 1,024 MB (daily)" in text
    assert "full build  >= floor 19.4 s + bare copy 11.6 s = 31.0 s = 14.9 scans" in text
    assert "target 10 scans = 20.80 s: UNREACHABLE" in text
    assert "target 3% of this full build = 34.74 s: reachable" in text
    assert "0.3 scans = 0.624 s, 25.2x less than the daily floor: UNREACHABLE" in text
    # --no-floor: no bounds, the rest still prints
    assert "bounds" not in bench.format_table(_result(with_floor=False))


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
    out = bench.run_dbt_measured(["parse", "--quiet"], warehouse.env, f"{warehouse.target_path}_bench")
    assert out["seconds"] > 0
    assert out["dbt_peak_rss_mb"] and 50 < out["dbt_peak_rss_mb"] < 4096
    assert out["pg_temp_files"] >= 0 and out["pg_temp_mb"] >= 0
    with pytest.raises(RuntimeError, match="failed with exit code"):
        bench.run_dbt_measured(["--warn-error", "run", "--select", "no_such_model_anywhere"], warehouse.env,
                               f"{warehouse.target_path}_bench")
