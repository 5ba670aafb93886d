"""Coaching data product on real PostgreSQL: the send list obeys every feedback-loop rule (recomputed
here in Python from staging, independently of the SQL), performance rates and Wilson intervals match
statsmodels, and the generator's planted helpfulness differences show up.

Days are UTC calendar days; the target date is the build's as_of date.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict

import numpy as np
import pytest
from conftest import assert_build_stopped_naming, build_warehouse, insert_at, project_copy
from statsmodels.stats.proportion import proportion_confint

from lpdata import PROJECT_ROOT, contracts
from lpdata.dbt import read_artifact
from lpdata.generate import TRUTHS
from lpdata.generate.coaching import holdout_bucket, in_holdout

TOL = 1e-9
SPEC_SEGMENTS = {"new_enrollee", "stalled", "struggling", "near_completion", "goal_due"}


def utc_date(ts: dt.datetime) -> dt.date:
    return ts.astimezone(dt.timezone.utc).date()


def wilson_upper(successes: int, n: int) -> float:
    return proportion_confint(successes, n, alpha=0.05, method="wilson")[1]


@pytest.fixture(scope="module")
def targets(warehouse):
    return warehouse.dicts(f"select * from {warehouse.mart('coaching_targets')}")


@pytest.fixture(scope="module")
def target_date(warehouse, targets):
    dates = {row["target_date"] for row in targets}
    assert len(dates) == 1, dates
    (day,) = dates
    assert day == dt.date.fromisoformat(warehouse.vars["as_of"][:10])
    return day


@pytest.fixture(scope="module")
def performance(warehouse):
    return warehouse.dicts(f"select * from {warehouse.mart('coaching_message_performance')}")


@pytest.fixture(scope="module")
def sent(warehouse):
    """Valid sent messages with their interaction kinds (staging, not the coaching intermediates)."""
    messages = warehouse.dicts(
        "select message_id, learner_id, course_id, message_key, sent_at from staging.stg_coach__messages"
    )
    kinds: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for message_id, interaction, occurred_at in warehouse.query(
        "select message_id, interaction, occurred_at from staging.stg_coach__interactions"
    ):
        first = kinds[message_id].get(interaction)
        kinds[message_id][interaction] = occurred_at if first is None else min(first, occurred_at)
    for m in messages:
        m["interactions"] = kinds.get(m["message_id"], {})
    return messages


@pytest.fixture(scope="module")
def catalogue(warehouse):
    return {r["message_key"]: r for r in warehouse.dicts("select * from reference.coaching_messages")}


UNION = ("models", "intermediate", "coaching", "int_coaching_segments_unioned.sql")


def registered_segments() -> list[str]:
    """The segments the registry lists: the ref()s of the union model's list."""
    return re.findall(r"ref\('int_coaching_segment_([a-z_0-9]+)'\)", PROJECT_ROOT.joinpath(*UNION).read_text())


def register_segment(project, name: str) -> None:
    """The registry's step of docs/coaching.md in a project copy: one ref() line in the union model's list."""
    insert_at(
        project.joinpath(*UNION),
        "    ref('int_coaching_segment_stalled'),\n",
        f"    ref('int_coaching_segment_{name}'),\n",
    )


# ---------------------------------------------------------------- coaching_message_performance


def test_performance_counts_match_an_independent_count(performance, sent, catalogue):
    """Each count is the number of messages sent that ISO week with at least one such interaction."""
    expected: dict[tuple[str, dt.date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in sent:
        day = utc_date(m["sent_at"])
        week = day - dt.timedelta(days=day.weekday())
        counts = expected[(m["message_key"], week)]
        counts["n_sent"] += 1
        for kind in ("viewed", "clicked", "dismissed", "rated_helpful", "rated_unhelpful"):
            counts[f"n_{kind}"] += kind in m["interactions"]
    got = {(r["message_key"], r["week_start"]): r for r in performance}
    assert set(got) == set(expected)
    for key, counts in expected.items():
        row = got[key]
        assert row["week_start"].weekday() == 0
        assert row["message_type"] == catalogue[key[0]]["message_type"]
        for column, value in counts.items():
            assert row[column] == value, (key, column)


def test_performance_rates_and_wilson_intervals_match_statsmodels(performance):
    n_checked = 0
    for row in performance:
        viewed, clicked = row["n_viewed"], row["n_clicked"]
        helpful, rated = row["n_rated_helpful"], row["n_rated_helpful"] + row["n_rated_unhelpful"]
        assert row["n_rated"] == rated
        if viewed == 0:
            assert row["engagement_rate"] is None
        else:
            assert row["engagement_rate"] == pytest.approx(clicked / viewed, abs=TOL)
        if rated == 0:
            assert row["helpfulness_rate"] is None
            assert row["helpfulness_ci_low"] is None and row["helpfulness_ci_high"] is None
            continue
        low, high = proportion_confint(helpful, rated, alpha=0.05, method="wilson")
        assert row["helpfulness_rate"] == pytest.approx(helpful / rated, abs=TOL)
        assert abs(row["helpfulness_ci_low"] - low) <= TOL, row
        assert abs(row["helpfulness_ci_high"] - high) <= TOL, row
        n_checked += 1
    assert n_checked > 50


def test_wilson_macro_matches_statsmodels_on_edge_cases(warehouse):
    """0 of n, n of n, 1 of 1 and large n, through the macro's SQL as compiled by dbt."""
    cases = [(0, 1), (1, 1), (0, 200), (200, 200), (3, 7), (20, 250), (73, 834), (123456, 987654)]
    values = ", ".join(f"({x}, {n})" for x, n in cases)
    compiled = warehouse.dbt(
        "compile",
        "--inline",
        "select x, n, {{ wilson_interval('x', 'n', 'lower') }} as lo, {{ wilson_interval('x', 'n', 'upper') }} as hi "
        f"from (values {values}, (0, 0)) as t (x, n)",
        "--output",
        "json",
        "--quiet",
    ).stdout
    sql = json.loads(compiled[compiled.index("{") :])["compiled"]
    rows = {(x, n): (lo, hi) for x, n, lo, hi in warehouse.query(sql)}
    assert rows[(0, 0)] == (None, None)
    for x, n in cases:
        low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
        assert abs(rows[(x, n)][0] - low) <= TOL and abs(rows[(x, n)][1] - high) <= TOL, (x, n)


def test_planted_helpfulness_differences_show_up(performance):
    truth = TRUTHS["helpfulness_by_type"]
    paused_key = TRUTHS["paused_message_key"]
    helpful: dict[str, int] = defaultdict(int)
    rated: dict[str, int] = defaultdict(int)
    for row in performance:
        if row["message_key"] == paused_key:
            continue
        helpful[row["message_type"]] += row["n_rated_helpful"]
        rated[row["message_type"]] += row["n_rated"]
    rate = {t: helpful[t] / rated[t] for t in truth}
    # the measured order of the types is the planted one
    assert sorted(rate, key=rate.get) == sorted(truth, key=truth.get), rate
    # growth_mindset is clearly better than nudge: the intervals do not overlap
    gm_low, _ = proportion_confint(helpful["growth_mindset"], rated["growth_mindset"], method="wilson")
    _, nudge_high = proportion_confint(helpful["nudge"], rated["nudge"], method="wilson")
    assert gm_low > nudge_high
    for t, p in truth.items():
        assert abs(rate[t] - p) < 0.08, (t, rate[t], p)


def test_paused_message_is_paused_and_absent_from_targets(performance, targets):
    paused_key = TRUTHS["paused_message_key"]
    rows = [r for r in performance if r["message_key"] == paused_key]
    helpful = sum(r["n_rated_helpful"] for r in rows)
    rated = sum(r["n_rated"] for r in rows)
    assert rated >= 200
    assert wilson_upper(helpful, rated) < 0.3
    assert abs(helpful / rated - TRUTHS["paused_message_helpfulness"]) < 0.05
    assert paused_key not in {t["message_key"] for t in targets}


# ---------------------------------------------------------------- coaching_targets


def test_targets_are_not_empty_and_every_segment_appears(targets, catalogue):
    segments = registered_segments()
    assert SPEC_SEGMENTS <= set(segments)
    assert {m["segment"] for m in catalogue.values()} <= set(segments)
    assert len(targets) > 100
    assert {t["segment"] for t in targets} == set(segments)
    for t in targets:
        assert t["reason"].startswith(t["segment"] + ": ")
        assert catalogue[t["message_key"]]["segment"] == t["segment"]
        assert catalogue[t["message_key"]]["priority"] == t["priority"]
        assert catalogue[t["message_key"]]["message_type"] == t["message_type"]
        assert catalogue[t["message_key"]]["message_copy"] == t["message_copy"]  # the service sends it as is


def test_one_message_per_learner_per_day(targets):
    keys = [(t["target_date"], t["learner_id"]) for t in targets]
    assert len(keys) == len(set(keys))


def test_caps_and_no_repeat_hold_with_the_sent_history(targets, target_date, sent):
    history: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for m in sent:
        history[m["learner_id"]].append((utc_date(m["sent_at"]), m["message_key"]))
    for t in targets:
        days = [(d, k) for d, k in history[t["learner_id"]] if d <= target_date]
        # at most 1 per day, counting the target
        assert sum(d == target_date for d, _ in days) + 1 <= 1, t
        # at most 3 in the 7 days ending on the target date, counting the target
        assert sum(target_date - dt.timedelta(days=6) <= d for d, _ in days) + 1 <= 3, t
        # the same key not within 14 days
        assert not any(
            k == t["message_key"] and target_date - dt.timedelta(days=13) <= d for d, k in days
        ), t


def negative_at(message: dict, day: dt.date) -> dt.datetime | None:
    """First dismissed / rated_unhelpful reaction known by the end of ``day``; None if none."""
    times = [
        at for kind, at in message["interactions"].items()
        if kind in ("dismissed", "rated_unhelpful") and utc_date(at) <= day
    ]
    return min(times) if times else None


@pytest.fixture(scope="module")
def suppressed(target_date, sent):
    """Learners who dismissed or rated unhelpful 2 of their last 3 messages less than 14 days ago."""
    by_learner: dict[int, list[dict]] = defaultdict(list)
    for m in sent:
        if utc_date(m["sent_at"]) <= target_date:
            by_learner[m["learner_id"]].append(m)
    out = set()
    for learner, messages in by_learner.items():
        last_three = sorted(messages, key=lambda m: (m["sent_at"], m["message_id"]))[-3:]
        negatives = sorted(filter(None, (negative_at(m, target_date) for m in last_three)))
        if len(negatives) >= 2 and (target_date - utc_date(negatives[1])).days < 14:
            out.add(learner)
    return out


@pytest.fixture(scope="module")
def paused(target_date, sent):
    """Messages whose all-time Wilson 95% upper bound of helpfulness is below 0.3 after 200+ ratings."""
    helpful: dict[str, int] = defaultdict(int)
    rated: dict[str, int] = defaultdict(int)
    for m in sent:
        if utc_date(m["sent_at"]) > target_date:
            continue
        kinds = {k for k, at in m["interactions"].items() if utc_date(at) <= target_date}
        helpful[m["message_key"]] += "rated_helpful" in kinds
        rated[m["message_key"]] += ("rated_helpful" in kinds) + ("rated_unhelpful" in kinds)
    return {k for k in rated if rated[k] >= 200 and wilson_upper(helpful[k], rated[k]) < 0.3}


def test_suppressed_learners_get_nothing(targets, suppressed):
    assert len(suppressed) > 10, "the generator plants suppressed learners"
    assert not suppressed & {t["learner_id"] for t in targets}


def test_no_paused_message_is_targeted(targets, paused):
    assert paused == {TRUTHS["paused_message_key"]}
    assert not paused & {t["message_key"] for t in targets}


def test_no_target_for_deleted_unenrolled_or_finished(warehouse, targets):
    deleted = {r[0] for r in warehouse.query("select learner_id from staging.stg_platform__learners where is_deleted")}
    assert deleted, "the generator plants deleted learners"
    assert not deleted & {t["learner_id"] for t in targets}
    latest = {}
    for learner_id, course_id, enrolled_at, unenrolled_at in warehouse.query(
        "select learner_id, course_id, enrolled_at, unenrolled_at from staging.stg_platform__enrollments"
    ):
        key = (learner_id, course_id)
        if key not in latest or enrolled_at > latest[key][0]:
            latest[key] = (enrolled_at, unenrolled_at)
    progress = {
        (r["learner_id"], r["course_id"]): r
        for r in warehouse.dicts(f"select * from {warehouse.mart('fct_course_progress')}")
    }
    for t in targets:
        key = (t["learner_id"], t["course_id"])
        assert key in latest and latest[key][1] is None, t
        assert progress[key]["items_completed"] < progress[key]["items_total"], t


def test_send_list_is_the_best_allowed_message_for_every_segmented_learner(
    warehouse, targets, target_date, sent, catalogue, suppressed, paused
):
    """Recomputed in Python from the segment membership: every learner with an allowed candidate
    gets exactly the first one by (priority desc, message_key, course_id), and nobody else gets one."""
    history: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    for m in sent:
        day = utc_date(m["sent_at"])
        if target_date - dt.timedelta(days=13) <= day <= target_date:
            history[m["learner_id"]].append((day, m["message_key"]))
    best: dict[int, tuple] = {}
    for learner_id, course_id, segment in warehouse.query(
        "select learner_id, course_id, segment from intermediate.int_coaching_segments_unioned"
    ):
        days = history[learner_id]
        if learner_id in suppressed or any(d == target_date for d, _ in days):
            continue
        if sum(d >= target_date - dt.timedelta(days=6) for d, _ in days) >= 3:
            continue
        for key, message in catalogue.items():
            if message["segment"] != segment or not message["is_active"] or key in paused:
                continue
            if any(k == key for _, k in days):
                continue
            choice = (-message["priority"], key, course_id)
            best[learner_id] = min(best.get(learner_id, choice), choice)
    got = {t["learner_id"]: (-t["priority"], t["message_key"], t["course_id"]) for t in targets}
    assert got == best


# ---------------------------------------------------------------- holdout


@pytest.fixture(scope="module")
def holdout(warehouse):
    """(every staged learner id, the holdout computed in Python: lpdata.generate.coaching.in_holdout)."""
    learners = [r[0] for r in warehouse.query("select learner_id from staging.stg_platform__learners")]
    return learners, {learner for learner in learners if in_holdout(learner)}


def test_holdout_vars_are_the_generators(project_root):
    import yaml

    project_vars = yaml.safe_load((project_root / "dbt_project.yml").read_text())["vars"]
    assert project_vars["coaching_holdout_share"] == TRUTHS["coaching_holdout_share"]
    assert project_vars["coaching_holdout_salt"] == TRUTHS["coaching_holdout_salt"]


def test_holdout_is_the_same_hash_in_sql_and_python_and_about_the_share(warehouse, holdout):
    learners, expected = holdout
    got = dict(warehouse.query("select learner_id, holdout_bucket from intermediate.int_coaching_holdout"))
    assert set(got) == expected
    assert all(bucket == holdout_bucket(learner) for learner, bucket in got.items())
    share = TRUTHS["coaching_holdout_share"]
    assert abs(len(expected) / len(learners) - share) < 4 * math.sqrt(share * (1 - share) / len(learners))


def test_holdout_learners_get_no_message(holdout, targets, sent):
    """Not in the send list, and (the generator plants the same group) never sent one."""
    _, expected = holdout
    assert targets and not expected & {t["learner_id"] for t in targets}
    assert not expected & {m["learner_id"] for m in sent}


def test_holdout_learners_are_in_segments_but_not_targeted(warehouse, holdout):
    """Without the holdout rule they would be targeted: they are in the segments' learner x course
    rows before eligibility (e.g. stalled or near completion), and the eligible enrolments drop them."""
    _, expected = holdout
    progress = {r[0] for r in warehouse.query(
        "select learner_id from intermediate.int_course_progress where is_enrolled and completed_at is null"
    )}
    eligible = {r[0] for r in warehouse.query("select learner_id from intermediate.int_coaching_enrollments_eligible")}
    assert len(expected & progress) > 20
    assert not expected & eligible


# ---------------------------------------------------------------- lift against the holdout

Z_975 = 1.959963984540054


@pytest.fixture(scope="module")
def performance_v2(warehouse):
    return warehouse.dicts(f"select * from {warehouse.mart('coaching_message_performance', 2)} order by message_key, week_start")


@pytest.fixture(scope="module")
def lift_observations(warehouse, target_date, holdout):
    """The lift's observations recomputed in Python from staging (docs/coaching.md): (messaged, holdout),
    messaged = {message_key: [(learner, day D, items first completed on D+1..D+7)]}, holdout = [(learner, D, items)]."""
    _, in_group = holdout
    last_day = target_date - dt.timedelta(days=8)
    deleted = {r[0] for r in warehouse.query("select learner_id from staging.stg_platform__learners where is_deleted")}
    enrolments = defaultdict(list)
    for learner, enrolled_at, unenrolled_at in warehouse.query(
        "select learner_id, enrolled_at, unenrolled_at from staging.stg_platform__enrollments"
    ):
        enrolments[learner].append((utc_date(enrolled_at), unenrolled_at and utc_date(unenrolled_at)))
    daily: dict[tuple[int, dt.date], int] = defaultdict(int)
    for learner, first_at in warehouse.query(
        "select e.learner_id, min(e.occurred_at) from staging.stg_player__events as e "
        "inner join staging.stg_platform__course_items as i on e.item_id = i.item_id "
        "where e.event_type = 'item_complete' group by e.learner_id, e.item_id"
    ):
        daily[(learner, utc_date(first_at))] += 1

    def eligible(learner, day):
        return learner not in deleted and any(
            enrolled < day and (unenrolled is None or unenrolled >= day) for enrolled, unenrolled in enrolments[learner]
        )

    def outcome(learner, day):
        return sum(daily.get((learner, day + dt.timedelta(days=k)), 0) for k in range(1, 8))

    messages = warehouse.query(
        "select learner_id, message_key, sent_at from staging.stg_coach__messages "
        "where cast(sent_at at time zone 'UTC' as date) <= %s", (target_date,)
    )
    messaged = defaultdict(list)
    send_days = set()
    for learner, key, sent_at in messages:
        day = utc_date(sent_at)
        if day > last_day:
            continue
        send_days.add(day)
        if learner not in in_group and eligible(learner, day):
            messaged[key].append((learner, day, outcome(learner, day)))
    holdout_obs = [
        (learner, day, outcome(learner, day)) for learner in in_group for day in sorted(send_days) if eligible(learner, day)
    ]
    first_sent = defaultdict(lambda: dt.date.max)
    for _, key, sent_at in messages:
        first_sent[key] = min(first_sent[key], utc_date(sent_at))
    return messaged, holdout_obs, first_sent


def ratio_mean(observations) -> tuple[float, float, int, int]:
    """(mean, delta-method standard error over learners, n observations, n learners) of a ratio of
    per-learner sums."""
    per_learner: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for learner, _, y in observations:
        per_learner[learner][0] += y
        per_learner[learner][1] += 1
    sums, counts = np.array(list(per_learner.values()), dtype=float).T
    mean = sums.sum() / counts.sum()
    se = math.sqrt(np.var(sums - mean * counts, ddof=1) / counts.mean() ** 2 / len(sums))
    return mean, se, int(counts.sum()), len(sums)


def expected_lift(lift_observations, key, week_start):
    messaged, holdout_obs, first_sent = lift_observations
    end = week_start + dt.timedelta(days=7)
    t = [o for o in messaged[key] if o[1] < end]
    c = [o for o in holdout_obs if first_sent[key] <= o[1] < end]
    if len(t) < 2 or len(c) < 2:
        return None
    mt, st, nt, lt = ratio_mean(t)
    mc, sc, nc, lc = ratio_mean(c)
    lift = mt / mc - 1
    se = math.sqrt(st**2 + (mt / mc) ** 2 * sc**2) / mc
    return {"lift_n_messaged": nt, "lift_n_recipients": lt, "lift_n_holdout_days": nc, "lift_n_holdout_members": lc,
            "outcome_mean_messaged": mt, "outcome_mean_holdout": mc, "lift": lift,
            "lift_ci_low": lift - Z_975 * se, "lift_ci_high": lift + Z_975 * se}


def test_v2_keeps_v1_columns_and_rows(warehouse, performance, performance_v2):
    v1_columns = list(performance[0])
    assert list(performance_v2[0])[: len(v1_columns)] == v1_columns
    assert [{c: r[c] for c in v1_columns} for r in performance_v2] == sorted(
        performance, key=lambda r: (r["message_key"], r["week_start"])
    )
    assert warehouse.mart("coaching_message_performance") == warehouse.mart("coaching_message_performance", 2)


def test_lift_equals_an_independent_python_computation(performance_v2, lift_observations):
    n_checked = 0
    for row in performance_v2:
        expected = expected_lift(lift_observations, row["message_key"], row["week_start"])
        if expected is None:
            assert row["lift_ci_low"] is None, row
            continue
        for column, value in expected.items():
            assert row[column] == pytest.approx(value, rel=1e-9, abs=1e-9), (row["message_key"], row["week_start"], column)
        n_checked += 1
    assert n_checked > 50


def latest_lift(performance_v2, key):
    return max((r for r in performance_v2 if r["message_key"] == key and r["lift"] is not None), key=lambda r: r["week_start"])


def test_planted_helpful_message_lifts_and_the_other_does_not(performance_v2):
    helpful = latest_lift(performance_v2, TRUTHS["helpful_message_key"])
    assert helpful["lift_ci_low"] > 0, helpful
    assert helpful["lift_ci_low"] < TRUTHS["helpful_message_lift"] < helpful["lift_ci_high"], helpful
    useless = latest_lift(performance_v2, TRUTHS["no_lift_message_key"])
    assert useless["lift_ci_low"] < 0 < useless["lift_ci_high"], useless
    # the comparison is big enough to mean something at test scale
    assert useless["lift_n_holdout_members"] > 100 and useless["lift_n_messaged"] > 300


# ---------------------------------------------------------------- learner_goals


def test_learner_goals_are_active_and_days_to_target_is_relative_to_as_of(warehouse, target_date):
    goals = warehouse.dicts(f"select * from {warehouse.mart('learner_goals')}")
    staged = {
        r["goal_id"]: r
        for r in warehouse.dicts("select goal_id, learner_id, withdrawn_at, goal_text from staging.stg_coach__learner_goals")
    }
    deleted = {r[0] for r in warehouse.query("select learner_id from staging.stg_platform__learners where is_deleted")}
    assert goals
    as_of = dt.datetime.fromisoformat(warehouse.vars["as_of"])
    expected = {
        g for g, r in staged.items() if r["learner_id"] not in deleted and (r["withdrawn_at"] is None or r["withdrawn_at"] > as_of)
    }
    assert {g["goal_id"] for g in goals} == expected
    for g in goals:
        assert g["goal_text"] == staged[g["goal_id"]]["goal_text"]
        if g["target_date"] is None:
            assert g["days_to_target"] is None
        else:
            assert g["days_to_target"] == (g["target_date"] - target_date).days


def test_goal_text_is_tagged_pii(project_root):
    import yaml

    spec = yaml.safe_load((project_root / "models" / "marts" / "coaching" / "_coaching__models.yml").read_text())
    goals = next(m for m in spec["models"] if m["name"] == "learner_goals")
    column = next(c for c in goals["columns"] if c["name"] == "goal_text")
    assert column["meta"]["pii"] is True


@pytest.mark.parametrize("mart", ["coaching_targets", "learner_goals"])
def test_deleted_learners_absent(warehouse, mart):
    n = warehouse.scalar(
        f"select count(*) from {warehouse.mart(mart)} as m "
        "inner join staging.stg_platform__learners as l on m.learner_id = l.learner_id where l.is_deleted"
    )
    assert n == 0


def test_performance_is_aggregated_over_learners(warehouse):
    """coaching_message_performance carries no learner column: nothing about one learner leaks."""
    schema, table = warehouse.mart("coaching_message_performance").split(".")
    columns = {r[0] for r in warehouse.query(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
        (schema, table),
    )}
    assert "n_sent" in columns
    assert not {c for c in columns if "learner" in c}


def test_a_segment_added_by_the_documented_steps_gets_targeted(tmp_path):
    """docs/coaching.md, "Add a segment", followed in a copy of the project: one model, one line in
    the union model's list, one yml entry and one message for it. The new segment (a twin of `stalled`) holds exactly
    stalled's learner x course rows; its message, given the top priority, is what the send list
    gives those learners and no one else, and no public contract changes."""
    project = project_copy(tmp_path / "project")
    segments = project / "models" / "intermediate" / "coaching" / "segments"
    sql = (segments / "int_coaching_segment_stalled.sql").read_text()
    (segments / "int_coaching_segment_stalled_twin.sql").write_text(sql)
    register_segment(project, "stalled_twin")
    # copy an entry: the new one goes before the next segment's (the file ends with unit tests)
    insert_at(
        segments / "_segments__models.yml",
        "  - name: int_coaching_segment_struggling\n",
        "  - name: int_coaching_segment_stalled_twin\n"
        "    description: One row per learner x course of the stalled segment, again.\n"
        "    data_tests: *segment_key\n"
        "    columns: *segment_columns\n",
        before=True,
    )
    messages = project / "seeds" / "coaching_messages.csv"
    messages.write_text(
        messages.read_text().rstrip("\n")
        + '\ntwin_back_on_track,nudge,stalled_twin,1000,"Pick up where you left off: one item is enough today.",true\n'
    )

    # a built warehouse, then step 5's build of the coaching models and what they read
    wh = build_warehouse("new_segment", 600)
    out = wh.dbt("build", "--select", "+group:coaching", project_dir=project).stdout
    assert "NOT published" not in out

    def rows(segment: str) -> set[tuple]:
        return set(
            wh.query("select learner_id, course_id from intermediate.int_coaching_segments_unioned where segment = %s", (segment,))
        )

    assert rows("stalled_twin") == rows("stalled") != set()
    targeted = wh.dicts("select learner_id, course_id, message_key, segment from coaching.coaching_targets")
    twin = {(r["learner_id"], r["course_id"]) for r in targeted if r["message_key"] == "twin_back_on_track"}
    assert twin and twin <= rows("stalled")
    assert all(r["segment"] == "stalled_twin" for r in targeted if r["message_key"] == "twin_back_on_track")
    # a learner with a stalled enrolment who is targeted at all gets the twin's message (top priority),
    # unless their stalled course is on another course than the one targeted
    stalled_learners = {learner for learner, _ in rows("stalled")}
    assert all(
        r["message_key"] == "twin_back_on_track" or (r["learner_id"], r["course_id"]) not in rows("stalled")
        for r in targeted
        if r["learner_id"] in stalled_learners
    )
    manifest = read_artifact("manifest.json", project / "target")
    assert "model.learning_platform.int_coaching_segment_stalled_twin" in manifest["nodes"]
    assert contracts.check(manifest) == ([], [])


def test_a_segment_slip_fails_the_build_naming_it(tmp_path):
    """Two slips in a copy of the project: a segment model without reason_detail, and a message
    whose segment is misspelt. The build fails on each, naming it: the segment before PostgreSQL
    would blame the union, and the message in a test whose failing rows, kept in dbt_test__audit,
    give its message_key and segment."""
    project = project_copy(tmp_path / "project")
    segments = project / "models" / "intermediate" / "coaching" / "segments"
    sql = (segments / "int_coaching_segment_stalled.sql").read_text()
    assert sql.count("as reason_detail") == 1
    (segments / "int_coaching_segment_stalled_twin.sql").write_text(sql.replace("as reason_detail", "as reason"))
    register_segment(project, "stalled_twin")
    messages = project / "seeds" / "coaching_messages.csv"
    messages.write_text(messages.read_text().rstrip("\n") + '\ntwin_back_on_track,nudge,staled_twin,1000,"One item is enough today.",true\n')

    wh = build_warehouse("segment_slip", 500, build=False)
    # the recipe's build (docs/coaching.md)
    result = wh.dbt("build", "--select", "+group:coaching", check=False, project_dir=project)
    assert_build_stopped_naming(
        result,
        "coaching segment stalled_twin: model int_coaching_segment_stalled_twin has no column reason_detail "
        "(it has learner_id, course_id, reason); it must return learner_id, course_id, reason_detail",
    )
    assert wh.stored_failures(result, "assert_coaching_catalogue_segments_registered") == [
        ("twin_back_on_track", "staled_twin")
    ]
