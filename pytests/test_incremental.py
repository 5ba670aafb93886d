"""Incremental models equal a full refresh after new data arrives (late, duplicated, redelivered)."""

from __future__ import annotations

import json

import pytest

from conftest import build_warehouse
from lpdata import PROJECT_ROOT


def incremental_models(wh) -> list[tuple[str, str, list[str]]]:
    manifest = json.loads((PROJECT_ROOT / wh.target_path / "manifest.json").read_text())
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


def test_incremental_run_equals_full_refresh(incremental_warehouse):
    """EVERY incremental model (discovered from the manifest) equals its full refresh after new days."""
    from lpdata.generate import append_days

    wh = incremental_warehouse
    models = incremental_models(wh)
    assert any(name == "base_player__events" for name, _, _ in models)
    before = {name: content_hash(wh, rel, key) for name, rel, key in models}

    append_days(wh.env, days=2, progress=False)
    wh.dbt("build", "--select", INCREMENTAL_SELECTION)
    after_incremental = {name: content_hash(wh, rel, key) for name, rel, key in models}
    assert after_incremental["base_player__events"][0] > before["base_player__events"][0]

    wh.dbt("build", "--select", INCREMENTAL_SELECTION, "--full-refresh")
    after_full = {name: content_hash(wh, rel, key) for name, rel, key in models}
    differing = sorted(name for name in after_full if after_incremental[name] != after_full[name])
    assert not differing, f"incremental run differs from a full refresh for: {differing}"


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
