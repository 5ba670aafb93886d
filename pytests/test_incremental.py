"""Incremental models equal a full refresh after new data arrives (late, duplicated, redelivered)."""

from __future__ import annotations

import pytest
from conftest import build_warehouse, published_marts


def incremental_models(wh) -> list[tuple[str, str, list[str]]]:
    manifest = wh.artifact("manifest.json")
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental":
            key = node["config"]["unique_key"]
            models.append((node["name"], f'{node["schema"]}.{node["alias"]}', key if isinstance(key, list) else [key]))
    return sorted(models)


# columns that record when a row was computed, which a kept row holds from an earlier run: the
# experiment metrics' input watermark (docs block experiment_metric_state)
RUN_STAMP_COLUMNS = ("metric_inputs_through",)


def content_hash(wh, relation: str, order_by: list[str] = ()) -> tuple[int, str]:
    """Row count and md5 of all rows in key order (none given: in the order of their text), every
    column but the run stamps: equal hashes mean identical contents."""
    schema, name = relation.split(".")
    stamps = [
        r[0]
        for r in wh.query(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
            "and column_name = any(%s)",
            (schema, name, list(RUN_STAMP_COLUMNS)),
        )
    ]
    row = f"(to_jsonb(t) - array{stamps!r}::text[])::text" if stamps else "t::text"
    # the key first, then the whole row: a key may be coarser than the grain (learner_id for an
    # aggregate replaced per learner)
    order = ", ".join([*order_by, row])
    return tuple(
        wh.query(f"select count(*), md5(coalesce(string_agg({row}, '|' order by {order}), '')) from {relation} as t")[0]
    )


@pytest.fixture(scope="module")
def incremental_warehouse():
    return build_warehouse("incr", learners=600)


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


# the learner state tables: per-learner aggregates an incremental run updates only for the
# learners with new deliveries (models/intermediate/core/_core__state.md)
LEARNER_STATE_TABLES = (
    "int_learner_activity_aggregated",
    "int_learner_course_activity_aggregated",
    "int_item_completions_aggregated",
    "int_reco_course_views",
)
# state tables that also aggregate up to the weekly hold-out cutoff: a run after the cutoff moved
# recomputes every key
WEEKLY_STATE_TABLES = {"int_reco_course_views"}
# experiment metrics over the events: a daily run computes only the windows that ended since, or
# that a delivery received since occurred in (docs block experiment_metric_state)
EVENT_METRICS = ("metric_items_completed", "metric_active_learner", "metric_minutes_studied")


def warehouse_hashes(wh, models, marts: dict[str, str], *, audit: bool = False) -> dict[str, tuple[int, str]]:
    """Content hashes of the incremental models and of the marts: what consumers read (published),
    or with audit=True, the tables the last run built before publishing (`marts`: published -> audit)."""
    return {name: content_hash(wh, rel, key) for name, rel, key in models} | {
        published: content_hash(wh, built if audit else published) for published, built in marts.items()
    }


def row_versions(wh, relation: str) -> list[str]:
    """The transaction ids that wrote the table's rows (xmin): a row an incremental run rewrote has a
    new one, a row it kept has its old one."""
    return [r[0] for r in wh.query(f"select distinct xmin::text from {relation}")]


def rewritten(wh, relation: str, versions: list[str]) -> tuple[int, int, int, int]:
    """Rows and learners the last run wrote (an xmin not among `versions`), and all of them."""
    return tuple(
        wh.query(
            f"select count(*) filter (where xmin::text <> all(%s)), "
            f"count(distinct learner_id) filter (where xmin::text <> all(%s)), count(*), count(distinct learner_id) "
            f"from {relation}",
            (versions, versions),
        )[0]
    )


def test_incremental_run_equals_full_refresh(incremental_warehouse):
    """EVERY incremental model (discovered from the manifest) and every published mart equal a full
    refresh (the same mart built from scratch) after 1, 7 and 30 appended days, the learner
    state tables rewrite only the learners with new deliveries, and a build whose hold-out inputs
    did not change keeps the hold-out lists instead of computing them."""
    import datetime as dt

    from conftest import ANCHOR

    from lpdata.generate import append_days

    wh = incremental_warehouse
    models = incremental_models(wh)
    names = {name for name, _, _ in models}
    assert {"base_player__events", *LEARNER_STATE_TABLES} <= names
    marts = published_marts(wh.artifact("manifest.json"))
    assert len(marts) >= 19
    relations = {name: rel for name, rel, _ in models}
    before = {name: content_hash(wh, rel, key) for name, rel, key in models}

    appended = 0
    for days in (1, 6, 23):
        append_days(wh.env, days=days, progress=False)
        appended += days
        if appended == 1:
            write_model_batches(wh)
        # a daily run's as_of follows the data (the appended deliveries are not in the future)
        wh.vars["as_of"] = f"{(ANCHOR + dt.timedelta(days=appended)).isoformat()}T00:00:00+00:00"
        versions = {name: row_versions(wh, relations[name]) for name in (*LEARNER_STATE_TABLES, *EVENT_METRICS)}
        cutoff = wh.scalar("select max(holdout_until_at) from intermediate.int_reco_course_views")

        wh.dbt("build")
        cutoff_moved = cutoff != wh.scalar("select max(holdout_until_at) from intermediate.int_reco_course_views")
        # the anchor is a Tuesday: the hold-out cutoff (Monday of the week of as_of - 14 days) stays
        # after 1 day and moves after 7 and 30
        assert cutoff_moved == (appended > 1)
        after_incremental = warehouse_hashes(wh, models, marts)
        if appended == 1:
            assert after_incremental["base_player__events"][0] > before["base_player__events"][0]
            assert after_incremental["base_recommender__model_scores"][0] > before["base_recommender__model_scores"][0]
        for name in LEARNER_STATE_TABLES:
            rows, learners, all_rows, all_learners = rewritten(wh, relations[name], versions[name])
            print(f"{appended} days, {name}: rewrote {rows} of {all_rows} rows, {learners} of {all_learners} learners")
            if name in WEEKLY_STATE_TABLES and cutoff_moved:
                assert rows == all_rows, f"{name} after {appended} days: rewrote {rows} of {all_rows} rows"
                continue
            assert 0 < rows < all_rows, f"{name} after {appended} days: rewrote {rows} of {all_rows} rows"
            assert 0 < learners < all_learners
        for name in EVENT_METRICS:
            rows, _, all_rows, _ = rewritten(wh, relations[name], versions[name])
            print(f"{appended} days, {name}: rewrote {rows} of {all_rows} windows")
            assert rows < all_rows / 2, f"{name} after {appended} days: rewrote {rows} of {all_rows} windows"

        # the hold-out lists: recomputed when the cutoff moved, and kept by a build whose hold-out
        # inputs did not change (the same data built again)
        holdout_due = wh.scalar("select is_due from intermediate.int_reco_run_refresh where run_key = 'holdout'")
        if cutoff_moved:
            assert holdout_due
        if appended == 1:
            stored = row_versions(wh, "intermediate.int_reco_holdout_lists")
            wh.dbt("build", "--select", "int_reco_run_refresh+")
            assert not wh.scalar("select is_due from intermediate.int_reco_run_refresh where run_key = 'holdout'")
            assert wh.scalar("select count(*) from intermediate.int_reco_lists where run_key = 'holdout'") == 0
            assert wh.scalar("select count(*) from intermediate.int_reco_holdout_lists") > 0
            assert row_versions(wh, "intermediate.int_reco_holdout_lists") == stored
            assert warehouse_hashes(wh, models, marts) == after_incremental

        # the full refresh runs every model from scratch; its tests would repeat the incremental
        # build's, so it is a run, and its marts are read from the audit tables it built
        wh.dbt("run", "--full-refresh")
        after_full = warehouse_hashes(wh, models, marts, audit=True)
        assert after_full.keys() == after_incremental.keys()
        differing = sorted(name for name in after_full if after_incremental[name] != after_full[name])
        assert not differing, f"after {appended} days, the incremental run differs from a full refresh for: {differing}"


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


def test_the_learner_state_follows_a_lost_event_and_a_catalogue_edit(incremental_warehouse):
    """A learner whose only events are taken by earlier-received copies of them (for another learner)
    loses their state rows; an item moved to another course is counted for its new course. After
    each, an incremental run of the learner state tables equals their full refresh."""
    import datetime as dt

    from conftest import ANCHOR

    wh = incremental_warehouse
    state = [f"intermediate.{name}" for name in LEARNER_STATE_TABLES]
    selection = ["--select", *(f"+{name}" for name in LEARNER_STATE_TABLES)]
    as_of = dt.datetime.fromisoformat(wh.vars.get("as_of") or f"{ANCHOR.isoformat()}T00:00:00+00:00")

    def assert_incremental_equals_full_refresh() -> None:
        wh.dbt("build", *selection)
        incremental = {rel: content_hash(wh, rel) for rel in state}
        wh.dbt("build", "--full-refresh", "--select", *LEARNER_STATE_TABLES)
        assert incremental == {rel: content_hash(wh, rel) for rel in state}

    def rows_of(learner_id: int) -> list[int]:
        return [wh.scalar(f"select count(*) from {rel} where learner_id = {learner_id}") for rel in state]

    learner, other = wh.query(
        "select max(learner_id) + 1, min(learner_id) from staging.stg_platform__learners where not is_deleted"
    )[0]
    first_course = wh.scalar("select min(course_id) from staging.stg_platform__courses")
    item = wh.scalar("select min(item_id) from staging.stg_platform__course_items where course_id > %s", (first_course,))
    with wh.connect() as conn:
        # a new learner (a copy of another's profile) with a view of a course and a completion of
        # one of its items, received an hour ago
        conn.execute(
            "create temp table new_learner as select * from raw.learners where learner_id = %s limit 1", (other,)
        )
        conn.execute("update new_learner set learner_id = %s", (learner,))
        conn.execute("insert into raw.learners select * from new_learner")
        conn.execute(
            """
            insert into raw.events
            select gen_random_uuid(), %s, 'course_view', course_id, null, %s, %s, '{}'
            from raw.course_items where item_id = %s
            """,
            (learner, as_of - dt.timedelta(hours=2), as_of - dt.timedelta(hours=1), item),
        )
        conn.execute(
            "insert into raw.events values (gen_random_uuid(), %s, 'item_complete', null, %s, %s, %s, '{}')",
            (learner, item, as_of - dt.timedelta(hours=2), as_of - dt.timedelta(hours=1)),
        )
    assert_incremental_equals_full_refresh()
    assert rows_of(learner) == [1, 1, 1, 1]

    with wh.connect() as conn:
        # the same events delivered for another learner, received a minute before the stored copies:
        # they become the first deliveries, the new learner's copies duplicates
        conn.execute(
            """
            insert into raw.events
            select event_id, %s, event_type, course_id, item_id, occurred_at, received_at - interval '1 minute', properties
            from raw.events where learner_id = %s
            """,
            (other, learner),
        )
    assert_incremental_equals_full_refresh()
    assert rows_of(learner) == [0, 0, 0, 0]

    with wh.connect() as conn:
        # a catalogue edit: a copy of the item in the first course supersedes it
        conn.execute(
            """
            insert into raw.course_items
            select item_id, %s, module_index, item_index, item_type, is_graded, estimated_minutes
            from raw.course_items where item_id = %s
            """,
            (first_course, item),
        )
    assert_incremental_equals_full_refresh()
    assert wh.scalar(
        "select count(*) from intermediate.int_item_completions_aggregated where item_id = %s and course_id = %s",
        (item, first_course),
    ) > 0


def test_an_input_stamped_before_the_holdout_cutoff_recomputes_the_holdout_lists(incremental_warehouse):
    """The hold-out lists are kept only while their inputs are unchanged: an enrolment stamped
    before the cutoff that lands later makes the hold-out due, and the recomputed lists leave the
    newly enrolled course out of that learner's lists."""
    wh = incremental_warehouse
    wh.dbt("build")  # takes in what the tests before changed
    stored = row_versions(wh, "intermediate.int_reco_holdout_lists")
    learner, course = wh.query(
        "select learner_id, course_id from intermediate.int_reco_holdout_lists"
        " where module = 'popular' and rank = 1 order by learner_id limit 1"
    )[0]
    with wh.connect() as conn:
        conn.execute(
            """
            insert into raw.enrollments (enrollment_id, learner_id, course_id, enrolled_at, unenrolled_at, source)
            select max(enrollment_id) + 1, %s, %s, (
                select cutoff_at - interval '1 hour' from intermediate.int_reco_runs where run_key = 'holdout'
            ), null, 'other'
            from raw.enrollments
            """,
            (learner, course),
        )

    wh.dbt("build")
    assert wh.scalar("select is_due from intermediate.int_reco_run_refresh where run_key = 'holdout'")
    assert row_versions(wh, "intermediate.int_reco_holdout_lists") != stored
    assert not wh.query(
        "select 1 from intermediate.int_reco_holdout_lists where learner_id = %s and course_id = %s", (learner, course)
    )
    # and the next build keeps them again
    wh.dbt("build", "--select", "int_reco_run_refresh+")
    assert not wh.scalar("select is_due from intermediate.int_reco_run_refresh where run_key = 'holdout'")


def test_the_experiment_metrics_follow_a_late_event_a_moved_window_and_a_catalogue_edit(incremental_warehouse):
    """A daily run of the metrics computes only the windows whose inputs changed, and equals a full
    refresh: after an item completion that occurred in an ended window and landed late (that window
    alone is computed again, and counts it), after an assignment log line that landed late and
    moved a learner's window earlier, and after an item's estimated minutes changed (the minutes
    metric, which reads the catalogue, is computed again whole), and when the stored table has
    no bookkeeping (written before the metrics were state)."""
    import datetime as dt

    wh = incremental_warehouse
    metrics = [f"intermediate.{name}" for name in EVENT_METRICS]
    selection = ["--select", "+int_experiment_metrics_unioned"]

    def assert_incremental_equals_full_refresh() -> dict[str, int]:
        """Builds the metrics incrementally, checks them against a full refresh, and returns how
        many rows of each the incremental run wrote."""
        versions = {rel: row_versions(wh, rel) for rel in metrics}
        wh.dbt("build", *selection)
        incremental = {rel: content_hash(wh, rel, ["experiment_key", "learner_id"]) for rel in metrics}
        written = {rel: rewritten(wh, rel, versions[rel])[0] for rel in metrics}
        wh.dbt("run", "--full-refresh", "--select", *EVENT_METRICS)
        assert incremental == {rel: content_hash(wh, rel, ["experiment_key", "learner_id"]) for rel in metrics}
        return written

    wh.dbt("build", *selection)  # takes in what the tests before changed
    experiment, learner, window_start, window_end, n_items = wh.query(
        """
        select windows.experiment_key, windows.learner_id, windows.window_start_at, windows.window_end_at, metric.value
        from intermediate.int_experiment_metric_windows as windows
        inner join intermediate.metric_items_completed as metric using (experiment_key, learner_id)
        order by windows.window_end_at, windows.experiment_key, windows.learner_id
        limit 1
        """
    )[0]
    item = wh.scalar(
        """
        select min(item_id) from staging.stg_platform__course_items
        where item_id not in (select item_id from staging.stg_player__events where learner_id = %s and item_id is not null)
        """,
        (learner,),
    )
    with wh.connect() as conn:
        conn.execute(
            """
            insert into raw.events
            values (gen_random_uuid(), %s, 'item_complete', null, %s, %s,
                    (select max(received_at) from raw.events) - interval '1 hour', '{}')
            """,
            (learner, item, window_start + (window_end - window_start) / 2),
        )
    written = assert_incremental_equals_full_refresh()
    n_windows = wh.scalar("select count(*) from intermediate.int_experiment_metric_windows")
    assert 1 <= written["intermediate.metric_items_completed"] < n_windows / 2
    assert wh.scalar(
        "select value from intermediate.metric_items_completed where experiment_key = %s and learner_id = %s",
        (experiment, learner),
    ) == n_items + 1

    # an assignment log line of the same learner and variant, a day before the first one, landing now
    other = wh.query(
        """
        select experiment_key, learner_id, window_start_at from intermediate.int_experiment_metric_windows
        where (experiment_key, learner_id) <> (%s, %s)
        order by window_end_at, experiment_key, learner_id limit 1
        """,
        (experiment, learner),
    )[0]
    with wh.connect() as conn:
        conn.execute(
            """
            insert into raw.experiment_assignments (experiment_key, variant_key, learner_id, assigned_at)
            select experiment_key, variant_key, learner_id, assigned_at - interval '1 day'
            from raw.experiment_assignments
            where experiment_key = %s and learner_id = %s
            order by assigned_at limit 1
            """,
            other[:2],
        )
    assert_incremental_equals_full_refresh()
    assert wh.scalar(
        "select metric_window_start_at from intermediate.metric_items_completed where experiment_key = %s and learner_id = %s",
        other[:2],
    ) == other[2] - dt.timedelta(days=1)

    with wh.connect() as conn:
        conn.execute("update raw.course_items set estimated_minutes = estimated_minutes + 7 where item_id = %s", (item,))
    written = assert_incremental_equals_full_refresh()
    assert written["intermediate.metric_minutes_studied"] == n_windows
    assert written["intermediate.metric_items_completed"] < n_windows / 2

    # a metric table written before the metrics kept their bookkeeping (the values alone): the next
    # run computes every window and adds the bookkeeping columns
    with wh.connect() as conn:
        conn.execute(
            "alter table intermediate.metric_items_completed drop column metric_window_start_at,"
            " drop column metric_inputs_through, drop column metric_code_digest, drop column metric_reference_digest"
        )
    written = assert_incremental_equals_full_refresh()
    assert written["intermediate.metric_items_completed"] == n_windows
