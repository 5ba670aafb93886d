"""learner_skill_benchmarks against an independent pandas computation from staging rows.

While developing: LP_TEST_SELECT="+learner_skill_benchmarks".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

MIN_EVIDENCE = 3
MIN_PEERS = 30


def _expected(warehouse) -> pd.DataFrame:
    subs = pd.DataFrame(warehouse.dicts("select learner_id, item_id, score from staging.stg_assessment__submissions"))
    items = pd.DataFrame(warehouse.dicts("select item_id, course_id, is_graded from staging.stg_platform__course_items"))
    course_skills = pd.DataFrame(warehouse.dicts("select course_id, skill_id, weight from staging.stg_platform__course_skills"))
    learners = pd.DataFrame(warehouse.dicts("select learner_id, occupation, is_deleted from staging.stg_platform__learners"))
    skills = pd.DataFrame(warehouse.dicts("select skill_id, skill_name from reference.skills"))

    subs["score"] = subs["score"].astype(float)
    course_skills["weight"] = course_skills["weight"].astype(float)
    graded = subs.merge(items[items["is_graded"]], on="item_id")
    best = graded.groupby(["learner_id", "item_id", "course_id"], as_index=False)["score"].max()
    ev = best.merge(course_skills, on="course_id")
    ev["weighted"] = ev["weight"] * ev["score"]
    agg = ev.groupby(["learner_id", "skill_id"]).agg(
        weighted=("weighted", "sum"), weight=("weight", "sum"), n_evidence_items=("item_id", "nunique")
    ).reset_index()
    agg["proficiency"] = agg["weighted"] / agg["weight"]
    agg = agg.merge(learners, on="learner_id")
    agg = agg[(~agg["is_deleted"]) & (agg["n_evidence_items"] >= MIN_EVIDENCE)].copy()
    agg = agg.merge(skills, on="skill_id")

    def percent_rank(values: pd.Series) -> pd.Series:
        n = len(values)
        if n == 1:
            return pd.Series(0.0, index=values.index)
        # the database computes proficiency in exact numeric arithmetic: learners tied there are
        # tied here only up to float rounding, so rank on values rounded to 1e-12
        return (values.round(12).rank(method="min") - 1) / (n - 1) * 100

    agg["percentile_all"] = agg.groupby("skill_id")["proficiency"].transform(percent_rank)
    has_occ = agg["occupation"].notna()
    peers = agg[has_occ].groupby(["skill_id", "occupation"])["proficiency"]
    agg.loc[has_occ, "n_peers"] = peers.transform("size") - 1
    agg.loc[has_occ, "percentile_in_occupation"] = peers.transform(percent_rank)
    agg["percentile_peers"] = np.where(agg["n_peers"] >= MIN_PEERS, agg["percentile_in_occupation"], np.nan)
    rounded = agg["proficiency"].round(12)  # exact thresholds (e.g. 0.8) are exact in the database
    agg["level"] = np.select(
        [rounded >= 0.8, rounded >= 0.6, rounded >= 0.4],
        ["expert", "advanced", "intermediate"],
        "beginner",
    )
    return agg


@pytest.fixture(scope="module")
def actual(warehouse) -> pd.DataFrame:
    rows = warehouse.dicts(f"select * from {warehouse.mart('learner_skill_benchmarks')}")
    assert rows, "learner_skill_benchmarks is empty"
    return pd.DataFrame(rows)


def test_benchmarks_equal_independent_computation(warehouse, actual):
    expected = _expected(warehouse)
    key = ["learner_id", "skill_id"]
    assert len(actual) == len(expected)
    merged = expected.merge(actual, on=key, how="outer", suffixes=("_exp", "_act"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
    assert (merged["skill_name_exp"] == merged["skill_name_act"]).all()
    assert (merged["n_evidence_items_exp"] == merged["n_evidence_items_act"]).all()
    np.testing.assert_allclose(merged["proficiency_act"], merged["proficiency_exp"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(merged["percentile_all_act"], merged["percentile_all_exp"], rtol=0, atol=1e-9)
    peers_act = merged["percentile_peers_act"].astype(float)
    peers_exp = merged["percentile_peers_exp"].astype(float)
    assert (peers_act.isna() == peers_exp.isna()).all()
    np.testing.assert_allclose(peers_act.dropna(), peers_exp.dropna(), rtol=0, atol=1e-9)
    assert (merged["level_exp"] == merged["level_act"]).all()


def test_peer_percentiles_exist_for_common_occupations(actual):
    # docs/synthetic_data.md: occupation groups of 30+ learners exist at the default scale
    assert actual["percentile_peers"].notna().any()
    assert actual["percentile_peers"].isna().any()


def test_proficiency_separates_learners(actual):
    assert actual["proficiency"].between(0, 1).all()
    assert (actual["n_evidence_items"] >= MIN_EVIDENCE).all()
    assert actual["proficiency"].std() > 0.05
    assert actual["level"].nunique() >= 3


def test_no_deleted_learners(warehouse, actual):
    deleted = {r[0] for r in warehouse.query("select learner_id from staging.stg_platform__learners where is_deleted")}
    assert not deleted & set(actual["learner_id"])
