"""Hostile raw input: rows a real platform delivers are planted in raw, the documented build runs, and
every bad row lands in quarantine with its reason while no good row is lost (raw = staged +
quarantined, and the staged counts move only by the good rows planted).

One small warehouse and one sequence of builds serve every case (docs/bad_input.md lists the rules):
a clean staging build (the counts before), the hostile rows, the whole build, the next day's events
after a delivery stamped 2100, then an event deleted from raw after it was staged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field

import pytest
from conftest import ANCHOR, Warehouse, build_warehouse
from test_foundation import SOURCES

BIG = 2**31 - 1
AS_OF = f"{ANCHOR.isoformat()}T00:00:00+00:00"
NEXT_DAY_AS_OF = f"{(ANCHOR + dt.timedelta(days=1)).isoformat()}T00:00:00+00:00"
FUTURE_EVENT = "00000000-0000-0000-0000-000000002100"
EVENT_1970 = "00000000-0000-0000-0000-000000001970"
NEXT_DAY_EVENTS = 200


@dataclass
class Plant:
    """A row planted in raw (or a row already there that the plant affects) and what staging must do
    with it: the reasons of the base rows matching `where` (None = staged)."""

    case: str
    base: str
    where: str
    expected: list[str | None]
    sql: str | None = None
    params: tuple = ()


@dataclass
class Hostile:
    wh: Warehouse
    plants: list[Plant]
    before: dict[str, tuple[int, int, int]]
    after: dict[str, tuple[int, int, int]]
    reasons: dict[str, list[str | None]]
    build: dict[str, str]
    ids: dict[str, int]
    marts: dict[str, object] = field(default_factory=dict)
    next_day: dict[str, object] = field(default_factory=dict)
    deleted_event: dict[str, object] = field(default_factory=dict)
    type_drift: dict[str, object] = field(default_factory=dict)


def counts(wh: Warehouse) -> dict[str, tuple[int, int, int]]:
    """raw, staged and quarantined rows per source table."""
    out = {}
    for raw_table, staged in SOURCES:
        out[raw_table] = (
            wh.scalar(f"select count(*) from {raw_table}"),
            wh.scalar(f"select count(*) from staging.{staged}"),
            wh.scalar("select count(*) from staging.quarantined_rows where source_table = %s", (raw_table,)),
        )
    return out


def statuses(wh: Warehouse) -> dict[str, str]:
    """Node name (a model's with its version, a test's without its hash) -> status of the last dbt
    invocation on wh."""
    out = {}
    for result in wh.artifact("run_results.json")["results"]:
        kind, _, name = result["unique_id"].split(".", 2)
        out[name.split(".")[0] if kind == "test" else name] = result["status"]
    return out


def pick(wh: Warehouse, sql: str) -> int:
    value = wh.scalar(sql)
    assert value is not None, sql
    return value


def choose_ids(wh: Warehouse) -> dict[str, int]:
    """Learners, courses and rows of the clean warehouse the hostile rows are about."""
    single = "(select learner_id from raw.learners group by learner_id having count(*) = 1)"
    plain = f"l.learner_id in {single} and not l.is_deleted and l.country_code is not null"
    ids = {
        # assigned to an experiment and enrolled: must not vanish when a bad profile row arrives
        "victim": pick(wh, f"""
            select l.learner_id from raw.learners as l
            where {plain}
              and l.learner_id in (select learner_id from staging.stg_allocation__experiment_assignments)
              and l.learner_id in (select learner_id from staging.stg_platform__enrollments)
            order by l.learner_id limit 1"""),
        # signed up before every experiment, in none of them
        "early": pick(wh, f"""
            select l.learner_id from raw.learners as l
            where {plain} and l.signed_up_at < timestamptz '{AS_OF}' - interval '100 days'
              and l.learner_id not in (select learner_id from raw.experiment_assignments)
            order by l.learner_id limit 1"""),
        "course": pick(wh, "select min(course_id) from staging.stg_platform__courses where not is_retired"),
        "item": pick(wh, "select min(item_id) from staging.stg_platform__course_items where is_graded"),
        "submission": pick(wh, "select min(submission_id) from staging.stg_assessment__submissions"),
        "impression": pick(wh, "select min(impression_id) from staging.stg_recommender__impressions where clicked_at is null"),
    }
    ids["early2"] = pick(wh, f"""
        select l.learner_id from raw.learners as l
        where {plain} and l.signed_up_at < timestamptz '{AS_OF}' - interval '100 days'
          and l.learner_id not in (select learner_id from raw.experiment_assignments)
          and l.learner_id != {ids['early']}
        order by l.learner_id limit 1""")
    ids["other_course"] = pick(wh, f"""
        select min(course_id) from staging.stg_platform__courses
        where not is_retired and course_id not in (
            select course_id from raw.enrollments where learner_id = {ids['early']}
        )""")
    ids["third_course"] = pick(wh, f"""
        select min(course_id) from staging.stg_platform__courses
        where not is_retired and course_id != {ids['other_course']} and course_id not in (
            select course_id from raw.enrollments where learner_id = {ids['early']}
        )""")
    return ids


def plants(ids: dict[str, int]) -> list[Plant]:
    early, early2, victim, course = ids["early"], ids["early2"], ids["victim"], ids["course"]
    at = f"timestamptz '{AS_OF}'"
    return [
        # case 1: a delivery stamped in 2100 (it must not move the events watermark)
        Plant("1", "base_player__events", f"event_id = '{FUTURE_EVENT}'", ["received_in_future"],
              f"insert into raw.events values ('{FUTURE_EVENT}', {early}, 'course_view', {course}, null, "
              f"{at} - interval '2 days', timestamptz '2100-01-01', '{{}}')"),
        # cases 3 and 5: absurd timestamps and integers
        Plant("3", "base_player__events", f"event_id = '{EVENT_1970}'", ["before_platform_launch"],
              f"insert into raw.events values ('{EVENT_1970}', {early}, 'course_view', {course}, null, "
              f"timestamptz '1970-01-01', {at} - interval '2 days', '{{}}')"),
        Plant("5", "base_platform__learners", "learner_id = 990001", ["in_future"],
              "insert into raw.learners values (990001, 'x@example.com', 'X', 'DE', null, "
              "timestamptz '2100-01-01', timestamptz '2100-01-02', false)"),
        Plant("3", "base_platform__learners", "learner_id = 990002", ["before_platform_launch"],
              "insert into raw.learners values (990002, 'y@example.com', 'Y', 'DE', null, "
              "timestamptz '1970-01-01', timestamptz '1970-01-02', false)"),
        Plant("3", "base_player__events", "learner_id = 990002", ["orphan_learner"],
              f"insert into raw.events values (gen_random_uuid(), 990002, 'item_complete', {course}, {ids['item']}, "
              "timestamptz '1970-01-03', timestamptz '1970-01-03', '{}')"),
        Plant("3", "base_platform__enrollments", "enrollment_id = 99000001", ["orphan_learner"],
              f"insert into raw.enrollments values (99000001, 990002, {course}, timestamptz '1970-01-02', null, 'search')"),
        Plant("5", "base_platform__enrollments", "enrollment_id = 99000002", ["before_signup"],
              f"insert into raw.enrollments select 99000002, learner_id, {ids['other_course']}, "
              f"signed_up_at - interval '30 days', null, 'search' from raw.learners where learner_id = {early}"),
        Plant("3", "base_platform__enrollments", "enrollment_id = 99000003", ["before_platform_launch"],
              f"insert into raw.enrollments values (99000003, {early}, {ids['third_course']}, timestamptz '1970-01-01', "
              "null, 'browse')"),
        Plant("5", "base_assessment__submissions", "submission_id = 99000001", ["out_of_range"],
              f"insert into raw.assessment_submissions values (99000001, {early}, {ids['item']}, {BIG}, 0.5, "
              f"{at} - interval '1 day')"),
        Plant("5", "base_platform__course_items", "item_id = 9900001", ["out_of_range"],
              f"insert into raw.course_items values (9900001, {course}, 1, 99, 'lecture', false, {BIG})"),
        Plant("5", "base_allocation__experiment_assignments",
              f"learner_id = {early} and experiment_key = 'onboarding_checklist'", ["before_platform_launch"],
              f"insert into raw.experiment_assignments values ('onboarding_checklist', 'control', {early}, "
              "timestamptz '1970-01-01')"),
        Plant("5", "base_coach__learner_goals", "goal_id = 99000001", ["out_of_range"],
              f"insert into raw.learner_goals values (99000001, {early}, null, 'career', 'Retire', date '2200-01-01', "
              f"{at} - interval '3 days', null)"),
        # case 12: spec rules
        Plant("12", "base_allocation__experiment_assignments",
              f"learner_id = {early2} and experiment_key = 'reco_carousel'", ["outside_experiment_window"],
              f"insert into raw.experiment_assignments values ('reco_carousel', 'control', {early2}, "
              f"{at} - interval '90 days')"),
        Plant("12", "base_allocation__experiment_assignments",
              f"learner_id = {early2} and experiment_key = 'pricing_banner'", ["outside_experiment_window"],
              f"insert into raw.experiment_assignments values ('pricing_banner', 'banner', {early2}, "
              f"{at} - interval '2 days')"),
        Plant("12", "base_allocation__experiments", "experiment_key like 'hostile_%'", [None, None],
              f"insert into raw.experiments values ('hostile_two_controls', 'x', 'qa', {at} - interval '10 days', null), "
              f"('hostile_null_control', 'x', 'qa', {at} - interval '10 days', null)"),
        Plant("12", "base_allocation__experiment_variants", "experiment_key = 'hostile_two_controls'",
              ["not_one_control", "not_one_control"],
              "insert into raw.experiment_variants values ('hostile_two_controls', 'control', true, 0.5), "
              "('hostile_two_controls', 'other_control', true, 0.5)"),
        Plant("12", "base_allocation__experiment_variants", "experiment_key = 'hostile_null_control'", ["missing_value"],
              "insert into raw.experiment_variants values ('hostile_null_control', 'control', null, 1)"),
        Plant("12", "base_allocation__experiment_assignments", "experiment_key = 'hostile_two_controls'",
              ["unknown_variant"],
              f"insert into raw.experiment_assignments values ('hostile_two_controls', 'control', {early2}, "
              f"{at} - interval '5 days')"),
        Plant("12", "base_platform__course_items", "item_id = 9900002", ["missing_value"],
              f"insert into raw.course_items values (9900002, {course}, 1, 98, 'quiz', null, 10)"),
        Plant("12", "base_platform__learners", "learner_id = 990003", ["missing_value"],
              "insert into raw.learners values (990003, 'z@example.com', 'Z', 'DE', null, "
              f"{at} - interval '10 days', {at} - interval '9 days', null)"),
        Plant("12", "base_platform__enrollments", "enrollment_id = 99000004 and enrollment_source = 'other'", [None],
              f"insert into raw.enrollments values (99000004, {early2}, {course}, {at} - interval '2 days', null, null)"),
        Plant("12", "base_recommender__impressions", "impression_id = 99000001", ["orphan_course"],
              f"insert into raw.recommendation_impressions values (99000001, {early}, 'popular', 999999, 1, "
              f"{at} - interval '1 day', null)"),
        Plant("5", "base_recommender__impressions", "impression_id = 99000002", ["out_of_range"],
              f"insert into raw.recommendation_impressions values (99000002, {early}, 'popular', {course}, 0, "
              f"{at} - interval '1 day', null)"),
        Plant("12", "base_coach__messages", "message_id = 99000001", ["orphan_course"],
              f"insert into raw.coaching_messages select 99000001, {early}, 999999, min(message_key), 'in_course', "
              f"{at} - interval '1 day' from reference.coaching_messages"),
        Plant("12", "base_recommender__model_scores", "course_id = 999999", ["orphan_course"],
              f"insert into raw.model_scores values ('mf_als', '1.0', 'mf_als-b2', {early}, 999999, 0.5, "
              f"{at} - interval '3 days')"),
        # case 6: a new profile row with an invalid country code; the last valid version stands
        Plant("6", "base_platform__learners", f"learner_id = {victim} and country_code = 'X1'", ["invalid_country_code"],
              f"insert into raw.learners select learner_id, email, full_name, 'X1', occupation, signed_up_at, "
              f"{at} - interval '10 seconds', is_deleted from raw.learners where learner_id = {victim}"),
        Plant("6", "base_platform__learners", f"learner_id = {victim} and country_code != 'X1'", [None]),
        # case 7: a key delivered twice with different content: the latest delivery wins
        Plant("7", "base_assessment__submissions", f"submission_id = {ids['submission']} and score = 0.123", [None],
              "insert into raw.assessment_submissions select submission_id, learner_id, item_id, attempt_number, 0.123, "
              f"submitted_at + interval '1 hour' from raw.assessment_submissions where submission_id = {ids['submission']}"),
        Plant("7", "base_assessment__submissions", f"submission_id = {ids['submission']} and score != 0.123",
              ["superseded"]),
        Plant("7", "base_recommender__impressions", f"impression_id = {ids['impression']} and clicked_at is not null",
              [None],
              "insert into raw.recommendation_impressions select impression_id, learner_id, module, course_id, position, "
              "shown_at, shown_at + interval '5 seconds' from raw.recommendation_impressions "
              f"where impression_id = {ids['impression']}"),
        Plant("7", "base_recommender__impressions", f"impression_id = {ids['impression']} and clicked_at is null",
              ["superseded"]),
    ]


def base_reasons(wh: Warehouse, plant: Plant) -> list[str | None]:
    rows = wh.query(f"select quarantine_reason from staging.{plant.base} where {plant.where}")
    return sorted((r[0] for r in rows), key=lambda r: (r is not None, r or ""))


@pytest.fixture(scope="module")
def hostile() -> Hostile:
    wh = build_warehouse("hostile", learners=600)  # a copy of the shared 600-learner warehouse
    before = counts(wh)
    ids = choose_ids(wh)
    planted = plants(ids)
    with wh.connect() as conn:
        for plant in planted:
            if plant.sql:
                conn.execute(plant.sql)

    # the documented build, on the hostile rows
    build = wh.dbt("build", check=False)
    h = Hostile(
        wh=wh, plants=planted, before=before, after=counts(wh), ids=ids,
        reasons={f"{p.case}:{p.base}:{p.where}": base_reasons(wh, p) for p in planted},
        build={"stdout": build.stdout, "statuses": json.dumps(statuses(wh))},
    )
    h.marts = {
        "absurd_learners": wh.scalar(f"select count(*) from {wh.mart('dim_learners')} where learner_id in (990001, 990002)"),
        "victim": wh.query(f"select country_code from {wh.mart('dim_learners')} where learner_id = %s", (ids["victim"],)),
        "victim_assignments": wh.scalar(
            f"select count(*) from {wh.mart('experiment_assignments')} where learner_id = %s", (ids["victim"],)
        ),
        "enrolled_before_signup": wh.scalar(
            f"select count(*) from {wh.mart('fct_course_progress')} where learner_id = %s and course_id in (%s, %s)",
            (ids["early"], ids["other_course"], ids["third_course"]),
        ),
        "assigned_in_1970": wh.scalar(
            f"select count(*) from {wh.mart('experiment_learner_metrics')} where learner_id = %s", (ids["early"],)
        ),
        "out_of_window": wh.scalar(
            f"select count(*) from {wh.mart('experiment_assignments')} where learner_id = %s", (ids["early2"],)
        ),
    }

    # case 1: the next day's events arrive after the delivery stamped 2100 was stored
    # its own target folder: dbt keys a saved parse on the vars, so the warehouse's later commands
    # (with the first as_of) keep starting from theirs
    next_day = dataclasses.replace(wh.in_target(f"{wh.target_path}_next_day"), vars={"as_of": NEXT_DAY_AS_OF})
    with wh.connect() as conn:
        conn.execute(
            f"""
            create table public.next_day_events as
            select gen_random_uuid() as event_id, learner_id, event_type, course_id, item_id,
                   occurred_at + interval '1 day' as occurred_at, received_at + interval '1 day' as received_at,
                   properties
            from staging.stg_player__events
            where received_at > timestamptz '{AS_OF}' - interval '1 day'
            order by event_id
            limit {NEXT_DAY_EVENTS}
            """
        )
        conn.execute("insert into raw.events select * from public.next_day_events")
    staged = next_day.dbt("build", "--select", "tag:staging", check=False)
    h.next_day = {
        "returncode": staged.returncode,
        "arrived": next_day.scalar(
            "select count(*) from staging.stg_player__events where event_id in (select event_id from public.next_day_events)"
        ),
        "future_reason": next_day.scalar(
            f"select quarantine_reason from staging.base_player__events where event_id = '{FUTURE_EVENT}'"
        ),
        "counts": counts(next_day),
    }

    # case 4: an event deleted from raw after it was staged: its source does not reconcile, what is
    # built on events is held back, the rest is built
    with wh.connect() as conn:
        conn.execute(
            "delete from raw.events where event_id = (select event_id from public.next_day_events order by 1 limit 1)"
        )
    held = next_day.dbt("build", "--select", "+dim_courses +fct_course_progress", check=False)
    h.deleted_event = {
        "returncode": held.returncode,
        "stdout": held.stdout,
        "statuses": statuses(next_day),
        "failure": next_day.stored_failures(held, "reconcile_raw_events") if "reconcile_raw_events" in held.stdout else [],
    }
    # the recovery: a full refresh of the events' staging state
    recovered = next_day.dbt("build", "--full-refresh", "--select", "base_player__events stg_player__events", check=False)
    h.deleted_event["recovered"] = recovered.returncode
    h.deleted_event["recovered_statuses"] = statuses(next_day)

    # case 12: a landing table whose column type drifted from its declaration
    with wh.connect() as conn:
        conn.execute("alter table raw.course_skills alter column skill_id type bigint")
    drift = wh.dbt("test", "--select", "source:platform.course_skills", check=False)
    h.type_drift = {"returncode": drift.returncode, "stdout": drift.stdout}
    with wh.connect() as conn:
        conn.execute("alter table raw.course_skills alter column skill_id type integer")
    return h


def check_plants(h: Hostile, case: str) -> None:
    """Every row planted for the case got the reasons expected (key: case, base model, rows)."""
    wrong = {}
    for plant in h.plants:
        key = f"{plant.case}:{plant.base}:{plant.where}"
        if plant.case == case and h.reasons[key] != plant.expected:
            wrong[key] = (h.reasons[key], plant.expected)
    assert not wrong, wrong


def test_every_raw_row_is_staged_or_quarantined_and_no_good_row_is_lost(hostile):
    """raw = staged + quarantined for every source, and the staged rows moved only by the good rows
    planted (an enrolment without source; two experiments whose variants are quarantined)."""
    good = {"raw.enrollments": 1, "raw.experiments": 2}
    for raw_table, (n_raw, n_staged, n_quarantined) in hostile.after.items():
        assert n_raw == n_staged + n_quarantined, raw_table
        assert n_staged - hostile.before[raw_table][1] == good.get(raw_table, 0), raw_table


def test_a_delivery_stamped_in_the_future_never_stalls_events_staging(hostile):
    """Case 1: a delivery received in 2100 is quarantined (received_in_future) and does not move the
    watermark: every event of the next day is staged."""
    check_plants(hostile, "1")
    assert hostile.next_day["returncode"] == 0
    assert hostile.next_day["arrived"] == NEXT_DAY_EVENTS
    assert hostile.next_day["future_reason"] == "received_in_future"
    for raw_table, (n_raw, n_staged, n_quarantined) in hostile.next_day["counts"].items():
        assert n_raw == n_staged + n_quarantined, raw_table


def test_absurd_timestamps_and_integers_are_quarantined(hostile):
    """Cases 3 and 5: a sign-up in 1970 or 2100, an event, enrolment and assignment in 1970, an
    enrolment before sign-up, attempt numbers and minutes of 2^31-1, a goal due in 2200 and a list
    position 0 never pass staging."""
    check_plants(hostile, "3")
    check_plants(hostile, "5")


def test_absurd_rows_never_reach_a_mart(hostile):
    statuses = json.loads(hostile.build["statuses"])
    failed = sorted(name for name, status in statuses.items() if status in ("error", "fail", "skipped"))
    assert not failed, hostile.build["stdout"][-4000:]
    assert hostile.marts["absurd_learners"] == 0
    assert hostile.marts["enrolled_before_signup"] == 0
    assert hostile.marts["assigned_in_1970"] == 0
    assert hostile.marts["out_of_window"] == 0


def test_a_bad_profile_update_is_quarantined_alone(hostile):
    """Case 6: the new row with an invalid country code is quarantined, the learner's last valid
    version stands: still in dim_learners (with the old country) and in the experiments."""
    check_plants(hostile, "6")
    assert len(hostile.marts["victim"]) == 1 and hostile.marts["victim"][0][0] != "X1"
    assert hostile.marts["victim_assignments"] > 0


def test_the_latest_delivery_of_a_key_wins_and_the_other_is_superseded(hostile):
    """Case 7: two deliveries of one submission (and of one impression) with different content."""
    check_plants(hostile, "7")


def test_spec_rules_are_declared_and_enforced(hostile):
    """Case 12: one control per experiment, assignments inside the experiment's window, no silent
    NULL replacement (a null source is 'other' by the documented rule; null booleans are quarantined),
    course ids checked in impressions, coaching messages and model scores, and raw column types as
    the sources declare them."""
    check_plants(hostile, "12")
    assert hostile.type_drift["returncode"] != 0
    assert "columns_have_declared_types_platform_course_skills" in hostile.type_drift["stdout"]


def test_a_source_that_does_not_reconcile_holds_back_only_what_is_built_on_it(hostile):
    """Case 4: an event deleted from raw after it was staged. Its source's reconciliation fails and
    says what to do; fct_course_progress (built on events) is not built, dim_courses is; a full
    refresh of the events' staging state reconciles again."""
    deleted = hostile.deleted_event
    statuses = deleted["statuses"]
    assert deleted["returncode"] != 0
    assert statuses.get("reconcile_raw_events") == "fail", deleted["stdout"][-3000:]
    assert statuses.get("fct_course_progress.v1") == "skipped"
    assert statuses.get("dim_courses.v1") == "success"
    assert [name for name, status in statuses.items() if status == "fail"] == ["reconcile_raw_events"]
    (row,) = deleted["failure"]
    assert "raw.events" in row and "lp rebuild -s base_player__events" in row[-1]
    assert any("no longer in raw" in str(value) for value in row)
    assert deleted["recovered"] == 0
    assert deleted["recovered_statuses"]["reconcile_raw_events"] == "pass"
