"""Incremental models equal a full refresh after new data arrives (late, duplicated, redelivered)."""

from __future__ import annotations

import pytest
from conftest import build_warehouse


def incremental_models(wh) -> list[tuple[str, str, list[str]]]:
    manifest = wh.artifact("manifest.json")
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental":
            key = node["config"]["unique_key"]
            models.append((node["name"], f'{node["schema"]}.{node["alias"]}', key if isinstance(key, list) else [key]))
    return sorted(models)


def content_hash(wh, relation: str, order_by: list[str]) -> tuple[int, str]:
    """Row count and md5 of all rows in key order: equal hashes mean identical contents."""
    return tuple(
        wh.query(
            # the key first, then the whole row: a key may be coarser than the grain (learner_id for
            # an aggregate replaced per learner)
            f"select count(*), md5(coalesce(string_agg(t::text, '|' order by {', '.join(order_by)}, t::text), '')) "
            f"from {relation} as t"
        )[0]
    )


@pytest.fixture(scope="module")
def incremental_warehouse():
    return build_warehouse("incr", learners=600)


# every incremental model of the project (whatever its folder) and what it is built from
INCREMENTAL_SELECTION = "+config.materialized:incremental"


def write_model_batches(wh) -> None:
    """What data scientists' offline jobs do between two runs (append_days writes no scores): finish
    the partial batch mf_als-b3, write a new batch with duplicated rows, and rows without a key."""
    with wh.connect() as conn:
        finished = conn.execute(
            """
            insert into raw.model_scores
            select model_name, model_version, 'mf_als-b3', learner_id, course_id, score + 0.01, scored_at + interval '1 hour'
            from raw.model_scores
            where batch_id = 'mf_als-b2'
              and (learner_id, course_id) not in (
                  select learner_id, course_id from raw.model_scores where batch_id = 'mf_als-b3'
              )
            """
        ).rowcount
        new_batch = conn.execute(
            """
            insert into raw.model_scores
            select model_name, '0.9.1', 'two_tower-b2', learner_id, course_id, -score, scored_at + interval '2 days'
            from raw.model_scores
            where batch_id = 'two_tower-b1'
            """
        ).rowcount
        conn.execute(
            """
            insert into raw.model_scores
            select model_name, '0.9.1', 'two_tower-b2', learner_id, course_id, score + 1, scored_at
            from raw.model_scores
            where batch_id = 'two_tower-b2'
            limit 7
            """
        )
        conn.execute(
            """
            insert into raw.model_scores
            values (null, '1', 'x-b1', 1, 1, 0.5, now()), (null, '1', 'x-b1', 1, 1, 0.5, now()), ('x', '1', null, 1, 1, 0.5, now())
            """
        )
    assert finished > 0 and new_batch > 0


def test_incremental_run_equals_full_refresh(incremental_warehouse):
    """EVERY incremental model (discovered from the manifest) equals its full refresh after new days."""
    from lpdata.generate import append_days

    wh = incremental_warehouse
    models = incremental_models(wh)
    assert any(name == "base_player__events" for name, _, _ in models)
    before = {name: content_hash(wh, rel, key) for name, rel, key in models}

    append_days(wh.env, days=2, progress=False)
    write_model_batches(wh)
    wh.dbt("build", "--select", INCREMENTAL_SELECTION)
    after_incremental = {name: content_hash(wh, rel, key) for name, rel, key in models}
    assert after_incremental["base_player__events"][0] > before["base_player__events"][0]
    assert after_incremental["base_recommender__model_scores"][0] > before["base_recommender__model_scores"][0]

    wh.dbt("build", "--select", INCREMENTAL_SELECTION, "--full-refresh")
    after_full = {name: content_hash(wh, rel, key) for name, rel, key in models}
    differing = sorted(name for name in after_full if after_incremental[name] != after_full[name])
    assert not differing, f"incremental run differs from a full refresh for: {differing}"


def test_a_partial_build_after_new_data_runs_only_the_reconciliations_of_its_sources(incremental_warehouse):
    """A data scientist rebuilding two sources' staging after a new day of raw data: each source's
    reconciliation (raw = base = staged + quarantined) runs with its own models, and no other source's
    does. Rebuilding only their stg_ views, whose base tables lag raw, fails exactly those two."""
    from lpdata.generate import append_days

    wh = incremental_warehouse
    append_days(wh.env, days=1, progress=False)

    views = wh.dbt("build", "--select", "stg_platform__enrollments stg_player__events", check=False)
    assert views.returncode != 0
    failed = {r["unique_id"].split(".")[2] for r in wh.artifact("run_results.json")["results"] if r["status"] == "fail"}
    assert failed == {"reconcile_raw_enrollments", "reconcile_raw_events"}, views.stdout[-3000:]

    wh.dbt("build", "--select", "base_platform__enrollments stg_platform__enrollments base_player__events stg_player__events")
    ran = {r["unique_id"].split(".")[2]: r["status"] for r in wh.artifact("run_results.json")["results"]}
    assert ran["reconcile_raw_enrollments"] == ran["reconcile_raw_events"] == "pass"
    assert not {name for name in ran if name.startswith("reconcile_")} - {"reconcile_raw_enrollments", "reconcile_raw_events"}


def test_redelivery_after_the_lookback_window_is_still_a_duplicate(incremental_warehouse):
    """An event delivered again long after the original (outside the lookback) is quarantined."""
    wh = incremental_warehouse
    with wh.connect() as conn:
        conn.execute(
            """
            insert into raw.events
            select event_id, learner_id, event_type, course_id, item_id, occurred_at,
                   (select max(received_at) from raw.events) + interval '1 minute', properties
            from raw.events
            where received_at < (select max(received_at) - interval '20 days' from raw.events)
              and event_type = 'item_complete'
            limit 5
            """
        )
    wh.dbt("build", "--select", "tag:staging")
    late_dups = wh.scalar(
        """
        select count(*) from staging.base_player__events
        where quarantine_reason = 'duplicate_delivery'
          and received_at = (select max(received_at) from raw.events)
        """
    )
    assert late_dups == 5
    assert wh.scalar(
        "select count(*) from (select event_id from staging.stg_player__events group by 1 having count(*) > 1) d"
    ) == 0
