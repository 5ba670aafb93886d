"""Recommendations: the list contract, the external-model batch rule, offline and online metrics.

Builds on the session `warehouse` fixture (3,000 learners, seed 42, as_of = the anchor). While
developing: LP_TEST_SELECT="+course_recommendations +recommendation_performance +fct_course_progress +dim_courses +dim_learners".
"""

from __future__ import annotations

import math
from collections import defaultdict

import pandas as pd
import pytest
from conftest import assert_build_stopped_naming, build_warehouse, insert_at, project_copy

from lpdata import contracts
from lpdata.dbt import read_artifact
from lpdata.generate import TRUTHS, course_clusters

K = 10
LIVE_MODULES = {"recent_activity", "because_you_viewed", "popular"}


@pytest.fixture(scope="module")
def recs(warehouse) -> pd.DataFrame:
    rows = warehouse.dicts(f"select * from {warehouse.mart('course_recommendations')}")
    assert rows, "course_recommendations is empty"
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def performance(warehouse) -> pd.DataFrame:
    rows = warehouse.dicts(f"select * from {warehouse.mart('recommendation_performance')}")
    return pd.DataFrame(rows).set_index("module")


def test_every_module_is_served(recs):
    modules = set(recs["module"])
    assert LIVE_MODULES <= modules
    # every external model is a module of its own, with no SQL per model
    assert set(TRUTHS["latest_complete_batch"]) <= modules


def test_learners_served_are_the_learners_with_a_live_list(recs, performance):
    """recommendation_performance's n_learners_served counts, per module and algorithm, the learners
    with a list in course_recommendations."""
    listed = recs.groupby(["module", "algorithm"])["learner_id"].nunique()
    served = performance.reset_index().set_index(["module", "algorithm"])["n_learners_served"]
    assert len(listed) >= len(LIVE_MODULES)
    assert served.reindex(listed.index).tolist() == listed.tolist()
    assert (served.drop(listed.index, errors="ignore") == 0).all()


def test_list_rules_hold_on_every_row(recs):
    lists = recs.sort_values(["learner_id", "module", "rank"]).groupby(["learner_id", "module"])
    sizes = lists.size()
    assert sizes.max() <= K
    # ranks 1..n without gaps
    assert (lists["rank"].min() == 1).all()
    assert (lists["rank"].max() == sizes).all()
    assert (lists["rank"].nunique() == sizes).all()
    # scores in (0, 1], the best scores 1, non-increasing with rank
    assert ((recs["score"] > 0) & (recs["score"] <= 1)).all()
    assert (lists["score"].first() == 1.0).all()
    assert (lists["score"].diff().dropna() <= 0).all()
    # no course twice in a list
    assert not recs.duplicated(["learner_id", "module", "course_id"]).any()


def test_no_enrolled_completed_retired_or_deleted(warehouse, recs):
    progress = warehouse.query(
        f"select learner_id, course_id from {warehouse.mart('fct_course_progress')} "
        "where is_enrolled or completed_at is not null"
    )
    blocked = set(progress)
    pairs = set(zip(recs["learner_id"], recs["course_id"]))
    assert not pairs & blocked
    retired = {r[0] for r in warehouse.query("select course_id from staging.stg_platform__courses where is_retired")}
    assert retired, "the generator plants retired courses"
    assert not set(recs["course_id"]) & retired
    deleted = {r[0] for r in warehouse.query("select learner_id from staging.stg_platform__learners where is_deleted")}
    assert not set(recs["learner_id"]) & deleted


def test_cold_start_learners_get_popular(warehouse, recs):
    # the generator's cold start: learners who never enrol (docs/synthetic_data.md)
    never_enrolled = {
        r[0]
        for r in warehouse.query(
            """
            select learner_id from staging.stg_platform__learners as l
            where not is_deleted
              and not exists (select 1 from staging.stg_platform__enrollments as e where e.learner_id = l.learner_id)
            """
        )
    }
    assert never_enrolled, "the generator plants learners who never enrol (cold start)"
    popular = set(recs.loc[recs["module"] == "popular", "learner_id"])
    assert never_enrolled <= popular
    # learners with no history at all (no view either) get popular and no co-occurrence list
    no_history = {
        r[0]
        for r in warehouse.query(
            """
            select learner_id from staging.stg_platform__learners as l
            where not is_deleted
              and not exists (select 1 from staging.stg_platform__enrollments as e where e.learner_id = l.learner_id)
              and not exists (
                  select 1 from staging.stg_player__events as v
                  where v.learner_id = l.learner_id and v.event_type = 'course_view' and v.course_id is not null
              )
            """
        )
    }
    assert no_history <= popular
    assert not no_history & set(recs.loc[recs["module"].isin(["recent_activity", "because_you_viewed"]), "learner_id"])


def test_only_the_latest_complete_batch_is_used(warehouse, recs):
    scores = pd.DataFrame(
        warehouse.dicts("select model_name, batch_id, learner_id, course_id, score from raw.model_scores")
    )
    for model, batch in TRUTHS["latest_complete_batch"].items():
        mine = recs[recs["module"] == model]
        assert not mine.empty
        batch_scores = scores[(scores["model_name"] == model) & (scores["batch_id"] == batch)]
        merged = mine.merge(batch_scores, on=["learner_id", "course_id"], how="left")
        assert merged["score_y"].notna().all(), f"{model}: rows not from {batch}"
        # the order follows the batch's raw scores, the score is logistic(raw) / logistic(best raw)
        sig = 1 / (1 + (-merged["score_y"].clip(-700, 700)).map(math.exp))
        best = sig.groupby(merged["learner_id"]).transform("max")
        assert ((merged["score_x"] - sig / best).abs() < 1e-9).all()
    # the in-progress batch's learners are still served from the complete one
    incomplete = TRUTHS["incomplete_batch"]["mf_als"]
    b3_learners = set(scores.loc[scores["batch_id"] == incomplete, "learner_id"])
    assert b3_learners & set(recs.loc[recs["module"] == "mf_als", "learner_id"])


def test_batch_completeness(warehouse):
    rows = dict(warehouse.query("select batch_id, is_complete from intermediate.int_reco_model_batches"))
    for batch_id, (_model, _version, _days, complete) in TRUTHS["model_batches"].items():
        assert rows[batch_id] is complete, batch_id


def test_co_view_clusters_beat_popularity(performance):
    popular = performance.loc["popular"]
    for module in ("recent_activity", "because_you_viewed"):
        row = performance.loc[module]
        assert row["n_learners"] >= 100
        assert row["precision_at_k"] > popular["precision_at_k"], module
        assert row["ndcg_at_k"] > popular["ndcg_at_k"], module
        assert row["recall_at_k"] > popular["recall_at_k"], module


def test_because_you_viewed_follows_planted_clusters(warehouse, recs):
    clusters = course_clusters(learners=3000, seed=42)
    byv = recs[(recs["module"] == "because_you_viewed") & (recs["rank"] <= 3)]
    same = (byv["course_id"].map(clusters) == byv["reason_course_id"].map(clusters)).mean()
    n_courses = len(clusters)
    chance = sum(v * (v - 1) for v in pd.Series(clusters).value_counts()) / (n_courses * (n_courses - 1))
    assert same > max(0.5, 2 * chance)


def test_offline_metrics_recomputed(warehouse, performance):
    lists = pd.DataFrame(
        warehouse.dicts("select module, learner_id, course_id, rank from intermediate.int_reco_holdout_lists")
    )
    targets = warehouse.query("select learner_id, course_id from intermediate.int_reco_holdout_enrollments")
    relevant = defaultdict(set)
    for learner, course in targets:
        relevant[learner].add(course)
    for module, group in lists.groupby("module"):
        p, r, n = [], [], []
        for learner, lst in group.groupby("learner_id"):
            rel = relevant.get(learner)
            if not rel:
                continue
            hits = lst[lst["course_id"].isin(rel)]
            dcg = sum(1 / math.log2(k + 1) for k in hits["rank"])
            idcg = sum(1 / math.log2(k + 1) for k in range(1, min(len(rel), K) + 1))
            p.append(len(hits) / K)
            r.append(len(hits) / len(rel))
            n.append(dcg / idcg)
        row = performance.loc[module]
        assert row["n_learners"] == len(p)
        assert row["precision_at_k"] == pytest.approx(sum(p) / len(p), abs=1e-9)
        assert row["recall_at_k"] == pytest.approx(sum(r) / len(r), abs=1e-9)
        assert row["ndcg_at_k"] == pytest.approx(sum(n) / len(n), abs=1e-9)


def test_online_ctr_from_impressions(warehouse, performance):
    online = warehouse.query(
        "select module, count(*), count(clicked_at) from staging.stg_recommender__impressions group by module"
    )
    for module, impressions, clicks in online:
        row = performance.loc[module]
        assert row["impressions"] == impressions
        assert row["ctr"] == pytest.approx(clicks / impressions, abs=1e-12)
        planted = TRUTHS["ctr_by_module"].get(module)
        if planted is not None:
            assert row["ctr"] == pytest.approx(planted, abs=0.015), module


def test_learner_lookup_index(warehouse):
    relation = warehouse.mart("course_recommendations")
    schema, table = relation.split(".")
    indexes = [r[0] for r in warehouse.query(
        "select indexdef from pg_indexes where schemaname = %s and tablename = %s", (schema, table)
    )]
    assert any("(learner_id, module, rank)" in d for d in indexes), indexes
    # one learner's lists, as a service reads them: by that index, in its order (no sort)
    learner = warehouse.scalar(f"select min(learner_id) from {relation}")
    with warehouse.connect() as conn:
        conn.execute("set local role platform_reader")
        plan = "\n".join(r[0] for r in conn.execute(
            f"explain select module, rank, course_id, score from {relation} where learner_id = %s order by module, rank",
            (learner,),
        ).fetchall())
    assert "Index Scan using" in plan and "Sort" not in plan, plan


def test_candidate_pools_give_the_lists_of_every_scored_course(warehouse):
    """Producers emit only each learner's pool_size best candidates (int_reco_candidate_pools).

    Recomputes recent_activity over EVERY scored course (no pool), applies the list rules
    (recommendable, not excluded, k best by rounded score then course_id) and requires the same
    courses at the same ranks as int_reco_lists, for both runs; the pools must also be smaller
    than the unpooled candidates (or they save nothing).
    """
    unpooled = """
        with scored as (
            select i.run_key, i.learner_id, s.similar_course_id as course_id,
                   sum(i.weight * s.similarity) as raw_score
            from intermediate.int_reco_interactions as i
            join intermediate.int_reco_course_similarities as s
              on i.run_key = s.run_key and i.course_id = s.course_id
            group by 1, 2, 3
        ),
        eligible as (
            select scored.*, row_number() over (
                       partition by scored.run_key, scored.learner_id
                       order by round(scored.raw_score * 1e10) / 1e10 desc, scored.course_id) as rank
            from scored
            join intermediate.int_reco_learners as l using (run_key, learner_id)
            join intermediate.int_reco_catalogue as c using (run_key, course_id)
            left join intermediate.int_reco_exclusions as e using (run_key, learner_id, course_id)
            where c.is_recommendable and e.course_id is null and scored.raw_score > 0
        )
        select run_key, learner_id, rank, course_id from eligible where rank <= %s
    """
    with warehouse.connect() as conn:
        # the planner takes the (run_key, learner_id, course_id) anti join to leave about one row
        # (it multiplies the selectivities of correlated keys) and loops over the exclusions for
        # each of the many it leaves; a hash join reads the same rows in a second
        conn.execute("set local enable_nestloop = off")
        expected = sorted(conn.execute(unpooled, (K,)).fetchall())
    actual = sorted(warehouse.query(
        "select run_key, learner_id, rank, course_id from intermediate.int_reco_lists where module = 'recent_activity'"
    ))
    assert len(expected) > 1000
    assert actual == expected
    n_pooled = warehouse.scalar("select count(*) from intermediate.int_reco_producer_recent_activity")
    n_scored = warehouse.scalar(
        "select count(*) from (select distinct i.run_key, i.learner_id, s.similar_course_id "
        "from intermediate.int_reco_interactions as i join intermediate.int_reco_course_similarities as s "
        "on i.run_key = s.run_key and i.course_id = s.course_id) as t"
    )
    assert n_pooled < 0.8 * n_scored, (n_pooled, n_scored)


def test_ranked_list_test_names_every_broken_rule(warehouse):
    """The one-pass `ranked_list` test (tests/generic/ranked_list_rules.sql), run on planted lists
    that break one rule each, fails on exactly those lists and names the rule."""
    # compiled here: the warehouse's last dbt invocation (another test's) may not have compiled it
    warehouse.dbt("compile", "--select", "test_name:ranked_list,course_recommendations")
    manifest = warehouse.artifact("manifest.json")
    test = next(
        n for n in manifest["nodes"].values()
        if n["resource_type"] == "test" and n.get("test_metadata", {}).get("name") == "ranked_list"
        and n["attached_node"].startswith("model.learning_platform.course_recommendations")
    )
    compiled = test["compiled_code"]
    relation = manifest["nodes"][test["attached_node"]]["relation_name"]
    assert relation in compiled
    planted = [
        # learner 1: a valid list
        (1, "m", 1, 101, 1.0), (1, "m", 2, 102, 0.5),
        # learner 2: 11 rows
        *[(2, "m", r, 200 + r, 1.0 / r) for r in range(1, 12)],
        # learner 3: ranks 1, 3
        (3, "m", 1, 301, 1.0), (3, "m", 3, 302, 0.5),
        # learner 4: score 0
        (4, "m", 1, 401, 0.0),
        # learner 5: rank 2 scores above rank 1
        (5, "m", 1, 501, 0.5), (5, "m", 2, 502, 0.9),
        # learner 6: course 601 twice
        (6, "m", 1, 601, 1.0), (6, "m", 2, 601, 0.5),
    ]
    with warehouse.connect() as conn:
        conn.execute(
            "create temporary table planted_lists (learner_id bigint, module text, rank integer, course_id bigint, score double precision)"
        )
        with conn.cursor() as cur:
            cur.executemany("insert into planted_lists values (%s, %s, %s, %s, %s)", planted)
        rows = conn.execute(f"select learner_id, failed_rule from ({compiled.replace(relation, 'planted_lists')}) as t").fetchall()
    assert {(learner, rule) for learner, rule in rows} == {
        (2, "more than 10 rows"),
        (3, "ranks not 1..n"),
        (4, "score out of range"),
        (5, "score above the previous rank"),
        (6, "item twice in a list"),
    }


def test_a_producer_added_by_the_documented_steps_serves_its_module(tmp_path):
    """docs/recommendations.md, "Adding a producer", followed in a copy of the project: one model,
    one registry line, one yml entry. The new module (a twin of `popular` under its own module and
    algorithm names) gets the same live lists as `popular` and its own offline evaluation row,
    equal to popular's, and no public contract changes."""
    project = project_copy(tmp_path / "project")
    producers = project / "models" / "intermediate" / "recommendations" / "producers"
    sql = (producers / "int_reco_producer_popular.sql").read_text()
    assert "'popular' as module" in sql and "'domain_decayed_popularity' as algorithm" in sql
    (producers / "int_reco_producer_popular_twin.sql").write_text(
        sql.replace("'popular' as module", "'popular_twin' as module").replace(
            "'domain_decayed_popularity' as algorithm", "'domain_decayed_popularity_twin' as algorithm"
        )
    )
    insert_at(
        project / "macros" / "recommendation_producers.sql",
        "        'int_reco_producer_popular',\n",
        "        'int_reco_producer_popular_twin',\n",
    )
    yml = producers / "_producers__models.yml"
    yml.write_text(
        yml.read_text()
        + "  - name: int_reco_producer_popular_twin\n"
        + "    description: Candidates of module `popular_twin`, the popularity list again.\n"
        + "    data_tests:\n"
        + "      - unique_combination_of_columns:\n"
        + "          arguments:\n"
        + "            combination_of_columns: [run_key, learner_id, course_id]\n"
        + "    columns: *producer_columns\n"
    )

    wh = build_warehouse("new_producer", 600)
    # "the next build" of a built warehouse: the whole project, so that the new module's lists pass
    # every test of the mart (some read dim_courses and fct_course_progress) and are published
    out = wh.dbt("build", project_dir=project).stdout
    assert "NOT published" not in out

    def lists(module: str) -> list[tuple]:
        return wh.query(
            "select learner_id, rank, course_id, score from recommendations.course_recommendations"
            " where module = %s order by learner_id, rank",
            (module,),
        )

    assert lists("popular_twin") == lists("popular") != []
    performance = {
        r["module"]: r for r in wh.dicts("select * from recommendations.recommendation_performance")
    }
    twin, original = performance["popular_twin"], performance["popular"]
    assert twin["algorithm"] == "domain_decayed_popularity_twin"
    for column in ("n_learners", "coverage", "precision_at_k", "recall_at_k", "ndcg_at_k", "n_learners_served"):
        assert twin[column] == original[column], column
    assert twin["n_learners"] > 0

    manifest = read_artifact("manifest.json", project / "target")
    assert "model.learning_platform.int_reco_producer_popular_twin" in manifest["nodes"]
    assert contracts.check(manifest) == ([], [])


def test_a_producer_without_a_column_of_the_candidate_shape_stops_the_build_naming_it(tmp_path):
    """A registered producer that forgot reason_course_id fails at the union with the producer's
    name and the shape it must return, not with PostgreSQL's "column does not exist"."""
    project = project_copy(tmp_path / "project")
    producers = project / "models" / "intermediate" / "recommendations" / "producers"
    sql = (producers / "int_reco_producer_popular.sql").read_text()
    assert sql.count("as reason_course_id") == 1
    (producers / "int_reco_producer_popular_twin.sql").write_text(sql.replace("as reason_course_id", "as anchor_course_id"))
    insert_at(
        project / "macros" / "recommendation_producers.sql",
        "        'int_reco_producer_popular',\n",
        "        'int_reco_producer_popular_twin',\n",
    )
    wh = build_warehouse("producer_slip", 500, build=False)
    result = wh.dbt("build", "--select", "+int_reco_candidates", check=False, project_dir=project)
    assert_build_stopped_naming(
        result,
        "recommendation producer int_reco_producer_popular_twin (docs/recommendations.md): model "
        "int_reco_producer_popular_twin has no column reason_course_id",
    )
