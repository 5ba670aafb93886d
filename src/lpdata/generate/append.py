"""append_days(): the daily increment after the current end of raw.events.

Reads the current state (catalogue, learners, open enrolments and their progress, id maxima)
and simulates each new day with ``np.random.default_rng([seed, 99, day])``, so the result is
deterministic given the seed and the state. Existing rows are never changed, except that
0.05% of the learners per day invoke deletion (their current row gets ``is_deleted = true``
and a new ``updated_at``).
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from .. import db
from . import activity as act
from .pgcopy import Col, copy_columns, text_array
from .vec import seg_arange, uniform_int64
from .world import DAY_US, HOUR_US, MINUTE_US, read_seed

SECOND_US = act.SECOND_US
EPOCH_SQL = "(extract(epoch from {c}) * 1000000)::bigint"


def _us(col: str) -> str:
    return EPOCH_SQL.format(c=col)


def _fetch(conn, query: str, params=()) -> list[np.ndarray]:
    rows = conn.execute(query, params).fetchall()
    if not rows:
        return []
    return [np.array(c) for c in zip(*rows)]


class State:
    """What the increment needs to know about the tables as they are."""

    def __init__(self, conn):
        self.watermark = conn.execute(f"select {_us('max(received_at)')} from raw.events").fetchone()[0]
        if self.watermark is None:
            raise RuntimeError("raw.events is empty: run generate() (lp generate) before appending days")
        course_id, retired = _fetch(conn, f"select course_id, coalesce({_us('retired_at')}, -1) from raw.courses order by course_id")
        self.course_id, self.retired_at = course_id.astype(np.int64), retired.astype(np.int64)
        item_id, item_course, graded, minutes = _fetch(
            conn, "select item_id, course_id, is_graded, estimated_minutes from raw.course_items order by item_id"
        )
        self.item_id, self.item_course = item_id.astype(np.int64), item_course.astype(np.int64)
        self.item_graded, self.item_minutes = graded.astype(bool), minutes.astype(np.int64)
        first = {}
        count = {}
        for i, c in zip(self.item_id, self.item_course):
            first.setdefault(int(c), int(i))
            count[int(c)] = count.get(int(c), 0) + 1
        self.item_first = np.array([first.get(int(c), 0) for c in self.course_id], dtype=np.int64)
        self.n_items = np.array([count.get(int(c), 0) for c in self.course_id], dtype=np.int64)
        lid, signup, deleted, email = _fetch(
            conn,
            f"""select distinct on (learner_id) learner_id, {_us('signed_up_at')}, is_deleted, email
                from raw.learners order by learner_id, updated_at desc""",
        )
        self.lid, self.signup = lid.astype(np.int64), signup.astype(np.int64)
        self.deleted = deleted.astype(bool)
        self.email = np.array([e.encode() for e in email], dtype="S")
        cidx = {int(c): i for i, c in enumerate(self.course_id)}
        e_l, e_c, e_at = _fetch(
            conn,
            f"""select learner_id, course_id, {_us('min(enrolled_at)')} from raw.enrollments
                where unenrolled_at is null and learner_id < {act.ORPHAN_LEARNER_BASE} and course_id < {act.ORPHAN_COURSE_BASE}
                group by 1, 2 order by 1, 2""",
        ) or [np.zeros(0, np.int64)] * 3
        self.e_learner = e_l.astype(np.int64)
        self.e_course = np.array([cidx[int(c)] for c in e_c], dtype=np.int64)
        self.e_at = e_at.astype(np.int64)
        p_l, p_c, p_max = _fetch(
            conn,
            """select learner_id, course_id, max(item_id) from raw.events
               where event_type = 'item_complete' and course_id is not null and item_id is not null group by 1, 2""",
        ) or [np.zeros(0, np.int64)] * 3
        progress = {(int(a), int(b)): int(m) for a, b, m in zip(p_l, p_c, p_max)}
        self.e_done = np.array(
            [
                max(0, min(progress.get((int(learner), int(self.course_id[c])), 0) - int(self.item_first[c]) + 1, int(self.n_items[c])))
                if progress.get((int(learner), int(self.course_id[c]))) else 0
                for learner, c in zip(self.e_learner, self.e_course)
            ],
            dtype=np.int64,
        )
        nxt = {}
        for table, col in (("enrollments", "enrollment_id"), ("assessment_submissions", "submission_id"),
                           ("coaching_messages", "message_id"), ("learner_goals", "goal_id"),
                           ("recommendation_impressions", "impression_id")):
            nxt[col] = (conn.execute(f"select coalesce(max({col}), 0) from raw.{table} where {col} < {act.ORPHAN_MESSAGE_BASE}").fetchone()[0]) + 1
        self.ids = act.IdCounters(nxt["enrollment_id"], nxt["submission_id"], nxt["message_id"], nxt["goal_id"], nxt["impression_id"])
        self.next_learner = int(self.lid[self.lid < act.ORPHAN_LEARNER_BASE].max()) + 1
        self.messages = read_seed("coaching_messages")


def _simulate_day(state: State, rng: np.random.Generator, day_lo: int) -> tuple[dict[str, dict[str, Col]], np.ndarray, np.ndarray]:
    day_hi = day_lo + DAY_US
    S = state
    out: dict[str, dict[str, Col]] = {}
    # new sign-ups (0.3% of the learners), 85% of them enrol the same day
    n_new = max(1, int(round(0.003 * len(S.lid))))
    new_lid = np.arange(S.next_learner, S.next_learner + n_new, dtype=np.int64)
    S.next_learner += n_new
    new_signup = uniform_int64(rng, np.full(n_new, day_lo + SECOND_US), np.full(n_new, day_hi - 4 * HOUR_US))
    first = text_array(act.FIRST_NAMES)[rng.integers(len(act.FIRST_NAMES), size=n_new)]
    last = text_array(act.LAST_NAMES)[rng.integers(len(act.LAST_NAMES), size=n_new)]
    email = np.char.add(np.char.add(np.char.add(np.char.add(np.char.lower(first), b"."), np.char.lower(last)), new_lid.astype("S")), b"@example.com")
    occ = text_array(act.OCCUPATIONS)[rng.choice(len(act.OCCUPATIONS), size=n_new, p=act.OCCUPATION_P / act.OCCUPATION_P.sum())]
    country = text_array(act.COUNTRIES)[rng.choice(len(act.COUNTRIES), size=n_new, p=act.COUNTRY_P / act.COUNTRY_P.sum())]
    out["learners"] = {
        "learner_id": Col("int8", new_lid), "email": Col("text", email), "full_name": Col("text", np.char.add(np.char.add(first, b" "), last)),
        "country_code": Col("text", country, rng.random(n_new) < 0.05), "occupation": Col("text", occ, rng.random(n_new) < act.OCCUPATION_NULL),
        "signed_up_at": Col("ts", new_signup), "updated_at": Col("ts", new_signup), "is_deleted": Col("bool", np.zeros(n_new, bool)),
    }
    S.lid = np.concatenate([S.lid, new_lid])
    S.signup = np.concatenate([S.signup, new_signup])
    S.deleted = np.concatenate([S.deleted, np.zeros(n_new, bool)])
    S.email = np.concatenate([S.email, email])
    # deletions: 0.05% of the learners that are not deleted yet
    alive = np.flatnonzero(~S.deleted)
    k_del = int(rng.binomial(len(alive), 0.0005))
    del_idx = np.sort(rng.choice(alive, size=k_del, replace=False)) if k_del else np.zeros(0, np.int64)
    del_at = uniform_int64(rng, np.full(k_del, day_lo), np.full(k_del, day_hi - MINUTE_US))
    S.deleted[del_idx] = True
    live = ~S.deleted
    n_l = len(S.lid)
    pop = np.bincount(S.e_course, minlength=len(S.course_id)).astype(float) + 1.0
    pop[S.retired_at >= 0] = 0
    pop /= pop.sum()
    # new enrolments: the new learners, and 2% of the others per day
    enrol = live & ((np.arange(n_l) >= n_l - n_new) & (rng.random(n_l) < 0.85) | (rng.random(n_l) < 0.02))
    en_idx = np.flatnonzero(enrol)
    en_course = rng.choice(len(S.course_id), size=len(en_idx), p=pop)
    en_at = np.maximum(uniform_int64(rng, np.full(len(en_idx), day_lo), np.full(len(en_idx), day_hi - 2 * HOUR_US)), S.signup[en_idx] + MINUTE_US)
    src = rng.choice(5, size=len(en_idx), p=[0.35, 0.3, 0.15, 0.05, 0.15])
    enr = {
        "learner_id": Col("int8", S.lid[en_idx]), "course_id": Col("int8", S.course_id[en_course]), "enrolled_at": Col("ts", en_at),
        "unenrolled_at": Col("ts", np.zeros(len(en_idx), np.int64), np.ones(len(en_idx), bool)), "source": Col("text", act.SOURCE_BYTES[src]),
    }
    o1 = act._take_cols(enr, act._pick(rng, len(en_idx), 0.0015))
    o1["learner_id"] = Col("int8", act.ORPHAN_LEARNER_BASE + rng.integers(0, 10**6, len(o1["learner_id"].values)))
    enr = act._concat_cols([enr, o1])
    out["enrollments"] = {"enrollment_id": Col("int8", S.ids.take("enrollment", len(enr["learner_id"].values))), **enr}
    lpos = {int(learner): i for i, learner in enumerate(S.lid)}
    S.e_learner = np.concatenate([S.e_learner, S.lid[en_idx]])
    S.e_course = np.concatenate([S.e_course, en_course])
    S.e_at = np.concatenate([S.e_at, en_at])
    S.e_done = np.concatenate([S.e_done, np.zeros(len(en_idx), np.int64)])
    e_li = np.array([lpos[int(learner)] for learner in S.e_learner], dtype=np.int64)
    # study: each unfinished enrolment of a live learner is worked on with probability 0.05
    remaining = S.n_items[S.e_course] - S.e_done
    active = live[e_li] & (remaining > 0) & (rng.random(len(e_li)) < 0.05)
    a = np.flatnonzero(active)
    k = np.minimum(1 + rng.poisson(1.2, len(a)), remaining[a])
    sess = np.maximum(uniform_int64(rng, np.full(len(a), day_lo + 6 * HOUR_US), np.full(len(a), day_hi - 6 * HOUR_US)), S.e_at[a] + MINUTE_US)
    rows = np.repeat(np.arange(len(a)), k)
    step = seg_arange(k)
    course = S.e_course[a][rows]
    item = S.item_first[course] + S.e_done[a][rows] + step
    dur = (S.item_minutes[item - 1] * MINUTE_US * rng.uniform(0.6, 1.4, len(item))).astype(np.int64)
    start = sess[rows] + step * 40 * MINUTE_US + (rng.random(len(item)) * 60 * SECOND_US).astype(np.int64)
    done = np.minimum(start + np.minimum(dur, 35 * MINUTE_US), day_hi - 2 * MINUTE_US)
    S.e_done[a] += k
    lis = e_li[a]
    rows_l = lis[rows]
    ev_li = [lis, lis, rows_l, rows_l]
    ev_type = [np.full(len(a), act.EV["session_start"]), np.full(len(a), act.EV["course_view"]),
               np.full(len(item), act.EV["item_start"]), np.full(len(item), act.EV["item_complete"])]
    ev_course = [np.full(len(a), -1), S.course_id[S.e_course[a]], S.course_id[course], S.course_id[course]]
    ev_item = [np.full(len(a), -1), np.full(len(a), -1), item, item]
    ev_at = [sess - 30 * SECOND_US, sess, start, done]
    # browsing and searching
    nb = rng.poisson(0.12, n_l) * live
    b_li = np.repeat(np.arange(n_l), nb)
    b_course = rng.choice(len(S.course_id), size=len(b_li), p=pop)
    ns = rng.poisson(0.04, n_l) * live
    s_li = np.repeat(np.arange(n_l), ns)
    for li, etype, c in ((b_li, "course_view", S.course_id[b_course]), (s_li, "search", np.full(len(s_li), -1))):
        ev_li.append(li)
        ev_type.append(np.full(len(li), act.EV[etype]))
        ev_course.append(c)
        ev_item.append(np.full(len(li), -1))
        ev_at.append(uniform_int64(rng, np.maximum(S.signup[li] + SECOND_US, day_lo), np.full(len(li), day_hi - 2 * MINUTE_US)))
    li = np.concatenate(ev_li)
    occurred = np.maximum(np.concatenate(ev_at), day_lo + 1)
    n_ev = len(li)
    device = rng.integers(0, 3, n_ev)
    query = rng.integers(0, len(act.SEARCH_TERMS), n_ev)
    live_idx = np.flatnonzero(live)
    out["events"] = act.finish_events(
        rng, day_hi, S.lid[li], np.concatenate(ev_type).astype(np.int8), np.concatenate(ev_course), np.concatenate(ev_item),
        occurred, device, query, S.signup[li], (S.lid[live_idx], np.maximum(S.signup[live_idx], day_lo)), min_received=day_lo,
    )
    # submissions for graded completions
    g = np.flatnonzero(S.item_graded[item - 1])
    n_att = rng.choice([1, 2, 3], size=len(g), p=[0.7, 0.22, 0.08])
    sr = np.repeat(g, n_att)
    attempt = seg_arange(n_att) + 1
    score = np.clip(rng.normal(0.62, 0.12, len(sr)) + 0.04 * (attempt - 1), 0, 1)
    sub_at = start[sr] + (done[sr] - start[sr]) * attempt // (np.repeat(n_att, n_att) + 1)
    N = len(sr)
    null = np.zeros(N, bool)
    perm = rng.permutation(N)
    q = int(round(0.005 * N))
    null[perm[:q]] = True
    score[perm[q : 2 * q]] = rng.choice([1.5, -0.2, 7.0], size=len(perm[q : 2 * q]))
    subs = {
        "submission_id": Col("int8", S.ids.take("submission", N)), "learner_id": Col("int8", S.lid[rows_l[sr]]),
        "item_id": Col("int8", item[sr]), "attempt_number": Col("int4", attempt), "score": Col("numeric", np.round(score, 4), null),
        "submitted_at": Col("ts", sub_at),
    }
    out["assessment_submissions"] = act._concat_cols([subs, act._take_cols(subs, act._pick(rng, N, 0.003))]) if N else subs
    # coaching, impressions: the same generators as the history, restricted to this day
    L = _day_learners(S, live, e_li)
    enrolled = (e_li, S.e_course)
    world = _WorldShim(S, day_hi)
    out["coaching_messages"], out["coaching_interactions"] = act.make_coaching(world, rng, L, enrolled, S.ids, t_from=day_lo, t_to=day_hi, rate=6.0)
    out["recommendation_impressions"] = act.make_impressions(world, rng, L, S.ids, t_from=day_lo, t_to=day_hi, slates_per_learner=2.0 / 30)
    return out, S.lid[del_idx], del_at


class _WorldShim:
    """Just enough of :class:`world.World` for make_coaching and make_impressions."""

    def __init__(self, S: State, t_anchor: int):
        self.t_anchor = t_anchor
        self.messages = S.messages
        self.course_id = S.course_id
        self.retired_at = S.retired_at
        pop = np.bincount(S.e_course, minlength=len(S.course_id)).astype(float) + 1.0
        self.popularity = pop / pop.sum()


def _day_learners(S: State, live: np.ndarray, e_li: np.ndarray) -> act.Learners:
    n = len(S.lid)
    enrolled = np.bincount(e_li, minlength=n) > 0
    # preference lists for impressions: most popular courses first, shuffled a little per learner
    pop = np.bincount(S.e_course, minlength=len(S.course_id)).astype(float) + 1.0
    top = np.argsort(-pop, kind="stable")[: act.PREF_LEN]
    pref = np.tile(np.resize(top, act.PREF_LEN), (n, 1))
    first_enrol = np.where(enrolled, S.signup, np.iinfo(np.int64).max // 2)
    signup = np.where(live, S.signup, np.iinfo(np.int64).max // 2)
    z = np.zeros(n)
    return act.Learners(S.lid, signup, z.astype(int), np.zeros((n, 6)), z.astype(int), pref, enrolled & live, first_enrol,
                        z, z, z, np.zeros(n, bool), ~live, S.email)


def append_days(env: dict[str, str], days: int = 1, seed: int = 42, progress: bool = True) -> dict[str, int]:
    """Append ``days`` days of activity after max(raw.events.received_at); returns rows added per table."""
    if days < 1:
        raise ValueError("days must be at least 1")
    counts: dict[str, int] = {}
    with db.connect(env) as conn:
        state = State(conn)
        for d in tqdm(range(days), desc="append", unit="day", disable=not progress):
            day_lo = state.watermark + d * DAY_US
            rng = np.random.default_rng([seed, 99, int(day_lo // SECOND_US)])
            tables, deleted, deleted_at = _simulate_day(state, rng, day_lo)
            for name, cols in tables.items():
                counts[name] = counts.get(name, 0) + copy_columns(conn, f"raw.{name}", cols)
            if len(deleted):
                conn.execute(
                    """update raw.learners l set is_deleted = true, updated_at = timestamptz 'epoch' + d.at * interval '1 microsecond'
                       from unnest(%s::bigint[], %s::bigint[]) as d(id, at)
                       where l.learner_id = d.id
                         and l.updated_at = (select max(updated_at) from raw.learners x where x.learner_id = d.id)""",
                    (list(map(int, deleted)), list(map(int, deleted_at))),
                )
            counts["learners_deleted"] = counts.get("learners_deleted", 0) + len(deleted)
        conn.commit()
    with db.connect(env, autocommit=True) as conn:
        conn.execute("analyze raw.events, raw.learners, raw.enrollments, raw.assessment_submissions, raw.coaching_messages, "
                     "raw.coaching_interactions, raw.recommendation_impressions")
    return counts
