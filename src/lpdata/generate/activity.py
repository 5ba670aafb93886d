"""One block of learners and everything they do, as numpy columns ready for COPY.

The behavioural model (all vectorised, one ``np.random.Generator`` per block):

* every enrolling learner has a latent daily activity probability ``p`` and a latent
  items-per-active-day ``m``; from the day after the first enrolment until the learner stalls
  (or the anchor), each day is active with probability ``p`` and completes ``1 + Poisson(m)``
  items. The same latent values drive the pre-window and the window of every experiment.
* completions are *demand*; enrolments *supply* items: the learner works through a
  preference-ordered list of courses (mostly of the learner's co-view cluster), each with a cap
  (the prefix the learner will do: all items for about a third), taking the next course when
  the current cap is used up. So every completion is a new, distinct item, in course order.
* experiment effects are planted in the mechanics, with expectations exact per block:
  ``onboarding_checklist`` revives inactive learners in the window (+8 points of active) and
  scales items per active day so items completed in the window are +20%;
  ``reco_carousel`` adds Poisson(0.15) zero-activity enrolments in the window;
  ``hint_styles``/``hint_a`` turns a failing graded attempt in the window into a pass with
  probability 0.10 / (1 - P(pass)), i.e. +0.10 on every attempt's pass probability.
* coaching messages are planned before the study days (their own generator) and never go to the
  holdout (:mod:`.coaching`); in the 7 UTC days after the day a learner receives the helpful
  message (``truths.HELPFUL_MESSAGE_KEY``) each study day is active with (1 + HELPFUL_MESSAGE_LIFT)
  times the learner's probability; no other message changes activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from . import truths as T
from .coaching import holdout_mask
from .pgcopy import Col, text_array
from .vec import bisect_mean_min, group_starts, seg_arange, uniform_int64, uuids, weighted_top_k
from .world import DAY_US, DOMAINS, HISTORY_DAYS, HOUR_US, MINUTE_US, TOPIC_WORDS, World

SECOND_US = 1_000_000
ORPHAN_LEARNER_BASE = 900_000_000
ORPHAN_COURSE_BASE = 90_000
ORPHAN_MESSAGE_BASE = 9_000_000_000
PREF_LEN = 32
EVENT_TYPES = T.KNOWN_EVENT_TYPES + T.UNKNOWN_EVENT_TYPES
EV = {name: i for i, name in enumerate(EVENT_TYPES)}
EVENT_TYPE_BYTES = text_array(EVENT_TYPES)
DEVICES = ("web", "ios", "android")
SEARCH_TERMS = tuple(sorted({w.lower() for words in TOPIC_WORDS.values() for w in words}))
# JSON documents are padded with trailing spaces to one width (jsonb drops the whitespace): one
# row layout for all properties keeps the COPY encoder on its fast path.
_JSON_WIDTH = 64
DEVICE_JSON = text_array(f'{{"device": "{d}"}}'.ljust(_JSON_WIDTH) for d in DEVICES)
SEARCH_JSON = text_array(f'{{"query": "{q}", "device": "{d}"}}'.ljust(_JSON_WIDTH) for q in SEARCH_TERMS for d in DEVICES)
SOURCES = ("search", "browse", "recommendation", "coach", "other")
SOURCE_BYTES = text_array(SOURCES)
FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "David", "Elif", "Farah", "Gabriel", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo",
    "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe",
    "Aisha", "Bruno", "Carmen", "Dmitri", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Liam",
)
LAST_NAMES = (
    "Smith", "Garcia", "Muller", "Rossi", "Kowalski", "Nguyen", "Okafor", "Silva", "Tanaka", "Novak", "Haddad",
    "Jensen", "Kim", "Lopez", "Martin", "Nakamura", "Olsen", "Petrov", "Quinn", "Rahman", "Schmidt", "Toure",
    "Ulrich", "Varga", "Walsh", "Yilmaz", "Zhang", "Andersen", "Bauer", "Costa", "Dubois", "Evans",
)
EMAIL_DOMAINS = (b"example.com", b"mail.example.org", b"learners.example.net")
OCCUPATIONS = (
    "student", "software engineer", "data analyst", "teacher", "nurse", "marketing manager", "accountant",
    "designer", "product manager", "unemployed", "researcher",
)
OCCUPATION_P = np.array([0.22, 0.15, 0.12, 0.08, 0.06, 0.06, 0.05, 0.05, 0.04, 0.03, 0.02])
OCCUPATION_NULL = 0.12
COUNTRIES = ("US", "IN", "GB", "DE", "BR", "NG", "FR", "ES", "CA", "MX", "PL", "JP", "KE", "AU", "NL", "EG", "PH", "IT")
COUNTRY_P = np.array([0.22, 0.16, 0.08, 0.07, 0.07, 0.05, 0.05, 0.04, 0.04, 0.04, 0.03, 0.03, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01])
GOAL_TYPES = ("finish_course", "weekly_hours", "career", "skill")
GOAL_TEXTS = {
    "finish_course": ("Finish this course before my review", "Complete the course and get the certificate", "Get through the last modules"),
    "weekly_hours": ("Study 3 hours a week", "Two evenings a week, one hour each", "Keep a 5 hour weekly habit"),
    "career": ("Move into a data role", "Get promoted to team lead", "Switch careers into design"),
    "skill": ("Get comfortable with statistics", "Learn enough Spanish for travel", "Write cleaner code"),
}
CHANNELS = text_array(("in_course", "email"))
MODULES = tuple(T.CTR_BY_MODULE)
MODULE_BYTES = text_array(MODULES)
INTERACTIONS = ("viewed", "clicked", "dismissed", "rated_helpful", "rated_unhelpful", "shared")
INTERACTION_BYTES = text_array(INTERACTIONS)
EMBED_DIM = 8


@dataclass
class IdCounters:
    """Next id of each surrogate-keyed table; blocks run in order, so ids are deterministic."""

    enrollment: int = 1
    submission: int = 1
    message: int = 1
    goal: int = 1
    impression: int = 1

    def take(self, name: str, n: int) -> np.ndarray:
        start = getattr(self, name)
        setattr(self, name, start + n)
        return np.arange(start, start + n, dtype=np.int64)


def _pick(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Indices of about share*n rows (at least one when n > 0 and share > 0)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, int(round(n * share)))
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def _concat_cols(parts: list[dict[str, Col]]) -> dict[str, Col]:
    out = {}
    for name in parts[0]:
        kind = parts[0][name].kind
        vals = np.concatenate([p[name].values for p in parts])
        nulls = [p[name].null if p[name].null is not None else np.zeros(len(p[name].values), bool) for p in parts]
        null = np.concatenate(nulls)
        out[name] = Col(kind, vals, null if null.any() else None)
    return out


def _take_cols(cols: dict[str, Col], idx: np.ndarray) -> dict[str, Col]:
    return {k: Col(c.kind, c.values[idx], None if c.null is None else c.null[idx]) for k, c in cols.items()}


# ----------------------------------------------------------------------------------------------
# learners
# ----------------------------------------------------------------------------------------------


@dataclass
class Learners:
    lid: np.ndarray
    signup: np.ndarray
    home: np.ndarray  # co-view cluster
    ability: np.ndarray  # (n, domains)
    device: np.ndarray
    pref: np.ndarray  # (n, PREF_LEN) course indices in preference order
    enroller: np.ndarray
    first_enrol: np.ndarray
    p: np.ndarray
    m: np.ndarray
    end: np.ndarray
    zero_demand: np.ndarray
    is_deleted: np.ndarray
    email: np.ndarray


def make_learners(world: World, rng: np.random.Generator, start_id: int, n: int) -> Learners:
    A = world.t_anchor
    lid = np.arange(start_id + 1, start_id + n + 1, dtype=np.int64)
    recent = rng.random(n) < 0.8
    age_days = np.where(recent, rng.random(n) * HISTORY_DAYS, HISTORY_DAYS + rng.random(n) * 245)
    signup = np.minimum(A - (age_days * DAY_US).astype(np.int64), A - HOUR_US)
    home = rng.choice(len(world.cluster_pop), size=n, p=world.cluster_pop)
    general = rng.normal(0.62, 0.08, n)
    ability = np.clip(general[:, None] + rng.normal(0, 0.07, (n, len(DOMAINS))), 0.2, 0.85)
    device = rng.choice(3, size=n, p=[0.55, 0.25, 0.20])
    in_home = world.cluster[None, :] == home[:, None]
    cp = world.cluster_pop[home][:, None]
    weights = np.where(in_home, 8.0 * world.popularity[None, :] / cp, world.popularity[None, :] / (1 - cp))
    pref = weighted_top_k(rng, weights, PREF_LEN)
    if pref.shape[1] < PREF_LEN:  # a catalogue smaller than the list (--courses): the list repeats it
        pref = pref[:, np.arange(PREF_LEN) % pref.shape[1]]
    enroller = rng.random(n) < 0.85
    first_enrol = np.minimum(signup + (rng.exponential(2.0, n) * DAY_US).astype(np.int64), A - 30 * MINUTE_US)
    p = np.clip(rng.lognormal(np.log(0.17), 0.6, n), 0.02, 0.6)
    m = np.clip(rng.lognormal(np.log(1.2), 0.6, n), 0.1, 3.0)
    stalled = enroller & (first_enrol < A - 10 * DAY_US) & (rng.random(n) < 0.3)
    stall_at = uniform_int64(rng, first_enrol + DAY_US, A - 7 * DAY_US)
    end = np.where(stalled, stall_at, A)
    zero_demand = enroller & (first_enrol > A - 3 * DAY_US) & (rng.random(n) < 0.6)
    is_deleted = rng.random(n) < 0.01
    first = np.array([f.encode() for f in FIRST_NAMES])[rng.integers(len(FIRST_NAMES), size=n)]
    last = np.array([s.encode() for s in LAST_NAMES])[rng.integers(len(LAST_NAMES), size=n)]
    dom = np.array(EMAIL_DOMAINS)[rng.integers(len(EMAIL_DOMAINS), size=n)]
    email = np.char.add(np.char.add(np.char.add(np.char.lower(first), b"."), np.char.lower(last)), lid.astype("S"))
    email = np.char.add(np.char.add(email, b"@"), dom)
    full_name = np.char.add(np.char.add(first, b" "), last)
    learners = Learners(lid, signup, home, ability, device, pref, enroller, first_enrol, p, m, end, zero_demand, is_deleted, email)
    learners.full_name = full_name  # type: ignore[attr-defined]
    return learners


def learner_rows(world: World, rng: np.random.Generator, L: Learners) -> dict[str, Col]:
    A = world.t_anchor
    n = len(L.lid)
    country = text_array(COUNTRIES)[rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P / COUNTRY_P.sum())]
    country_null = rng.random(n) < 0.05
    occupation = text_array(OCCUPATIONS)[rng.choice(len(OCCUPATIONS), size=n, p=OCCUPATION_P / OCCUPATION_P.sum())]
    occupation_null = rng.random(n) < OCCUPATION_NULL
    updated = L.signup + ((A - MINUTE_US - L.signup) * rng.uniform(0.1, 1.0, n)).astype(np.int64)
    main = {
        "learner_id": Col("int8", L.lid),
        "email": Col("text", L.email),
        "full_name": Col("text", L.full_name),
        "country_code": Col("text", country, country_null),
        "occupation": Col("text", occupation, occupation_null),
        "signed_up_at": Col("ts", L.signup),
        "updated_at": Col("ts", updated),
        "is_deleted": Col("bool", L.is_deleted),
    }
    # stale duplicates: an older version of the same account (older updated_at, old e-mail)
    s = _pick(rng, n, 0.003)
    stale = _take_cols(main, s)
    stale["updated_at"] = Col("ts", L.signup[s] + ((updated[s] - L.signup[s]) * rng.uniform(0, 0.9, len(s))).astype(np.int64))
    stale["email"] = Col("text", np.char.add(b"old.", L.email[s]))
    stale["is_deleted"] = Col("bool", np.zeros(len(s), bool))
    return _concat_cols([main, stale])


# ----------------------------------------------------------------------------------------------
# experiments
# ----------------------------------------------------------------------------------------------


@dataclass
class Assignment:
    assigned: np.ndarray  # bool per learner
    variant: np.ndarray  # variant index per learner (-1 if not assigned)
    day0: np.ndarray  # first assignment day relative to the anchor
    t0: np.ndarray  # first assignment timestamp


def assign_experiments(world: World, rng: np.random.Generator, L: Learners) -> dict[str, Assignment]:
    A = world.t_anchor
    n = len(L.lid)
    out = {}
    for key in T.EXPERIMENTS:
        lo = np.maximum(np.maximum(L.first_enrol + 7 * DAY_US, L.signup), A - 80 * DAY_US)
        dlo = -((A - lo) // DAY_US)  # ceil of (lo - A) / day
        dhi = -20
        eligible = L.enroller & ~L.zero_demand & (dlo <= dhi)
        assigned = eligible & (rng.random(n) < 0.62)
        day0 = dlo + (rng.random(n) * (dhi - dlo + 1)).astype(np.int64)
        # the allocation engine's nightly run logs assignments between 00:00 and 05:00 UTC, before
        # any study session of the day: so the 14-day window holds exactly 14 activity days
        t0 = A + day0 * DAY_US + (rng.random(n) * 5 * HOUR_US).astype(np.int64)
        weights = np.array(list(T.ACTUAL_WEIGHTS[key].values()))
        variant = rng.choice(len(weights), size=n, p=weights / weights.sum())
        out[key] = Assignment(assigned, np.where(assigned, variant, -1), day0, t0)
    return out


def assignment_rows(world: World, rng: np.random.Generator, L: Learners, asg: dict[str, Assignment]) -> dict[str, Col]:
    parts = []
    for key, a in asg.items():
        names = text_array(T.EXPERIMENTS[key]["variants"])
        idx = np.flatnonzero(a.assigned)
        v = a.variant[idx]
        keys = np.full(len(idx), key.encode())
        base = {
            "experiment_key": Col("text", keys),
            "variant_key": Col("text", names[v]),
            "learner_id": Col("int8", L.lid[idx]),
            "assigned_at": Col("ts", a.t0[idx]),
        }
        parts.append(base)
        # contaminated: logged again in another variant a few hours later
        c = _pick(rng, len(idx), 0.005)
        other = (v[c] + 1 + rng.integers(0, len(names) - 1, len(c))) % len(names)
        parts.append({
            "experiment_key": Col("text", keys[c]),
            "variant_key": Col("text", names[other]),
            "learner_id": Col("int8", L.lid[idx[c]]),
            "assigned_at": Col("ts", a.t0[idx[c]] + uniform_int64(rng, HOUR_US, 6 * HOUR_US, len(c))),
        })
    rows = _concat_cols(parts)
    dup = _pick(rng, len(rows["learner_id"].values), 0.02)
    return _concat_cols([rows, _take_cols(rows, dup)])


def experiment_rows(world: World) -> tuple[dict[str, Col], dict[str, Col]]:
    A = world.t_anchor
    keys, desc, owner, started, ended, ended_null = [], [], [], [], [], []
    vk, vv, vc, vw = [], [], [], []
    for key, spec in T.EXPERIMENTS.items():
        keys.append(key)
        desc.append(spec["description"])
        owner.append(spec["owner"])
        started.append(A - 81 * DAY_US)
        is_ended = key == "pricing_banner"
        ended.append(A - 5 * DAY_US if is_ended else 0)
        ended_null.append(not is_ended)
        for variant, w in spec["variants"].items():
            vk.append(key)
            vv.append(variant)
            vc.append(variant == "control")
            vw.append(w)
    experiments = {
        "experiment_key": Col("text", text_array(keys)),
        "description": Col("text", text_array(desc)),
        "owner": Col("text", text_array(owner)),
        "started_at": Col("ts", np.array(started)),
        "ended_at": Col("ts", np.array(ended), np.array(ended_null)),
    }
    variants = {
        "experiment_key": Col("text", text_array(vk)),
        "variant_key": Col("text", text_array(vv)),
        "is_control": Col("bool", np.array(vc)),
        "planned_weight": Col("numeric", np.array(vw)),
    }
    return experiments, variants


# ----------------------------------------------------------------------------------------------
# study days, completions, enrolments
# ----------------------------------------------------------------------------------------------


@dataclass
class Completions:
    learner: np.ndarray  # learner index in block
    course: np.ndarray  # course index
    item: np.ndarray  # item_id
    start: np.ndarray
    done: np.ndarray
    session: np.ndarray  # index of the study day (cell)


def study_days(world: World, rng: np.random.Generator, L: Learners, asg: dict[str, Assignment], lifted=None):
    """Active study days and items completed per day, with the checklist effect planted, and the
    helpful coaching message's: ``lifted`` = (generator, learner indices, days relative to the
    anchor) of the days after a received helpful message, on which a study day is active with
    (1 + HELPFUL_MESSAGE_LIFT) times the learner's probability (draws from its own generator)."""
    A = world.t_anchor
    n = len(L.lid)
    demand = L.enroller & ~L.zero_demand
    dstart = np.maximum((L.first_enrol - A) // DAY_US + 1, -HISTORY_DAYS)
    dend = np.where(demand, (L.end - A) // DAY_US, dstart)
    dend = np.maximum(dend, dstart)
    chk = asg["onboarding_checklist"]
    treat = chk.assigned & (chk.variant == 1)
    wlo, whi = chk.day0, chk.day0 + T.WINDOW_DAYS
    glo = np.where(treat, np.minimum(dstart, wlo), dstart)
    ghi = np.where(treat, np.maximum(dend, whi), dend)
    ncell = np.where(demand, ghi - glo, 0)
    li = np.repeat(np.arange(n), ncell)
    cell_start = group_starts(ncell)
    day = glo[li] + seg_arange(ncell)
    exposed = (day >= dstart[li]) & (day < dend[li])
    active = exposed & (rng.random(len(li)) < L.p[li])
    items = np.where(active, 1 + rng.poisson(L.m[li]), 0)
    inwin = treat[li] & (day >= wlo[li]) & (day < whi[li])
    # planted effect, exact in expectation over this block's treated learners
    t_idx = np.flatnonzero(treat)
    if len(t_idx):
        n_exp = np.bincount(li[inwin & exposed], minlength=n)[t_idx]
        p, m = L.p[t_idx], L.m[t_idx]
        inactive = (1 - p) ** n_exp
        eff_active = T.EFFECTS[("onboarding_checklist", "checklist", "active_learner")][0]
        eff_items = T.EFFECTS[("onboarding_checklist", "checklist", "items_completed")][0]
        c = bisect_mean_min(inactive, eff_active)
        revive = np.where(inactive > 0, np.minimum(1.0, c / np.maximum(inactive, 1e-12)), 0.0)
        extra_days = revive * inactive
        base_days = n_exp * p
        control_items = (base_days * (1 + m)).sum()
        kappa = ((1 + eff_items) * control_items - (base_days + extra_days).sum()) / max(((base_days + extra_days) * m).sum(), 1e-9)
        kappa = max(kappa, 0.0)
        kap = np.zeros(n)
        kap[t_idx] = kappa
        w_act = np.flatnonzero(inwin & active)
        items[w_act] = 1 + rng.poisson(kap[li[w_act]] * L.m[li[w_act]])
        any_win = np.bincount(li[inwin & active], minlength=n) > 0
        rev = np.zeros(n)
        rev[t_idx] = revive
        revived = treat & ~any_win & (rng.random(n) < rev)
        r_idx = np.flatnonzero(revived)
        cell = cell_start[r_idx] + (wlo[r_idx] - glo[r_idx]) + rng.integers(0, T.WINDOW_DAYS, len(r_idx))
        active[cell] = True
        items[cell] = 1 + rng.poisson(kappa * L.m[r_idx])
    if lifted is not None and len(lifted[1]):
        lrng, l_li, l_day = lifted
        span = np.int64(1) << 20
        lifted_keys = np.unique(l_li.astype(np.int64) * span + (l_day + HISTORY_DAYS + 1000))
        boost = exposed & ~active & np.isin(li.astype(np.int64) * span + (day + HISTORY_DAYS + 1000), lifted_keys)
        # P(active) = p + (1 - p) q = (1 + lift) p
        q = np.minimum(1.0, T.HELPFUL_MESSAGE_LIFT * L.p / (1 - L.p))
        b = np.flatnonzero(boost)
        b = b[lrng.random(len(b)) < q[li[b]]]
        active[b] = True
        items[b] = 1 + lrng.poisson(L.m[li[b]])
    keep = np.flatnonzero(items > 0)
    return li[keep], day[keep], items[keep]


def completions_and_enrolments(world: World, rng: np.random.Generator, L: Learners, asg: dict[str, Assignment], ids: IdCounters,
                                lifted=None):
    A = world.t_anchor
    n = len(L.lid)
    c_li, c_day, c_items = study_days(world, rng, L, asg, lifted)
    n_cells = len(c_li)
    tod = (rng.uniform(6, 18, n_cells) * HOUR_US).astype(np.int64)
    session = A + c_day * DAY_US + tod
    # expand to completions, in learner then time order
    comp_cell = np.repeat(np.arange(n_cells), c_items)
    comp_li = c_li[comp_cell]
    per_learner = np.bincount(comp_li, minlength=n)
    j = seg_arange(per_learner)
    # supply: preference-ordered courses with caps
    K = min(PREF_LEN - 8, world.n_courses - 4)
    course_k = L.pref[:, :K]
    n_it = world.n_items[course_k]
    full = rng.random((n, K)) < 0.5
    cap = np.where(full, n_it, (rng.random((n, K)) * (n_it - 1)).astype(np.int64) + 1)
    cumcap = np.cumsum(cap, axis=1)
    big = np.int64(1) << 32
    flat = (np.arange(n, dtype=np.int64)[:, None] * big + cumcap).ravel()
    k = np.searchsorted(flat, comp_li * big + j, side="right") - comp_li * K
    ok = k < K  # demand beyond the supply of K courses is dropped (rare)
    comp_cell, comp_li, j, k = comp_cell[ok], comp_li[ok], j[ok], k[ok]
    prev = cumcap[comp_li, k] - cap[comp_li, k]
    pos = j - prev
    course = course_k[comp_li, k]
    item = world.item_first[course] + pos
    dur = (world.item_minutes[item - 1] * rng.uniform(0.6, 1.4, len(item)) * MINUTE_US).astype(np.int64)
    # lay the completions of a study day end to end after its session start, within the day
    cum = np.cumsum(dur)
    cell_n = np.bincount(comp_cell, minlength=n_cells)
    cell_first = group_starts(cell_n)
    before = cum - dur - np.repeat(cum[cell_first[cell_n > 0]] - dur[cell_first[cell_n > 0]], cell_n[cell_n > 0])
    cell_total = np.zeros(n_cells, np.int64)
    np.add.at(cell_total, comp_cell, dur)
    room = (24 * HOUR_US - 10 * MINUTE_US) - tod
    scale = np.minimum(1.0, room / np.maximum(cell_total, 1))
    gap = (rng.uniform(5, 90, len(item)) * SECOND_US).astype(np.int64)
    start = session[comp_cell] + (before * scale[comp_cell]).astype(np.int64) + gap
    done = start + (dur * scale[comp_cell]).astype(np.int64)
    comps = Completions(comp_li, course, item, start, done, comp_cell)

    # demand enrolments: (learner, k) for k up to the last one used
    n_used = np.zeros(n, np.int64)
    np.maximum.at(n_used, comp_li, k + 1)
    n_used = np.where(L.enroller, np.maximum(n_used, 1), 0)
    e_li = np.repeat(np.arange(n), n_used)
    e_k = seg_arange(n_used)
    first_done = np.full((n, K), np.iinfo(np.int64).max)
    np.minimum.at(first_done, (comp_li, k), start)
    last_done = np.zeros((n, K), np.int64)
    np.maximum.at(last_done, (comp_li, k), done)
    count_k = np.zeros((n, K), np.int64)
    np.add.at(count_k, (comp_li, k), 1)
    fd = first_done[e_li, e_k]
    started = fd < np.iinfo(np.int64).max
    lead = uniform_int64(rng, 5 * MINUTE_US, 3 * HOUR_US, len(e_li))
    enrolled = np.where(e_k == 0, np.minimum(L.first_enrol[e_li], np.where(started, fd - lead, L.first_enrol[e_li])), fd - lead)
    enrolled = np.where(started | (e_k == 0), enrolled, L.first_enrol[e_li])
    e_course = course_k[e_li, e_k]
    e_done = count_k[e_li, e_k]
    e_last = np.where(started, last_done[e_li, e_k], enrolled)
    src = rng.choice(5, size=len(e_li), p=[0.35, 0.3, 0.15, 0.05, 0.15])
    # extra enrolments that never start: browsing sign-ups and brand-new enrolees
    ex1 = L.enroller & (rng.random(n) < 0.2)
    ex2 = L.enroller & (rng.random(n) < 0.08)
    newbie = L.enroller & (rng.random(n) < 0.05)
    x_li = np.concatenate([np.flatnonzero(ex1), np.flatnonzero(ex2), np.flatnonzero(newbie)])
    x_off = np.concatenate([np.zeros(ex1.sum(), np.int64), np.ones(ex2.sum(), np.int64), np.full(newbie.sum(), 2)])
    x_lo = np.concatenate([L.first_enrol[ex1], L.first_enrol[ex2], np.maximum(L.first_enrol[newbie], A - 3 * DAY_US)])
    x_at = uniform_int64(rng, x_lo, np.full(len(x_lo), A - HOUR_US))
    x_course = L.pref[x_li, np.minimum(n_used[x_li] + x_off, PREF_LEN - 1)]
    # reco_carousel: +Poisson(0.15) recommendation enrolments in the window (planted effect)
    car = asg["reco_carousel"]
    eff = T.EFFECTS[("reco_carousel", "carousel", "enrollments")][0]
    n_car = np.where(car.assigned & (car.variant == 1), rng.poisson(eff, n), 0)
    r_li = np.repeat(np.arange(n), n_car)
    r_at = car.t0[r_li] + uniform_int64(rng, 0, T.WINDOW_DAYS * DAY_US - 6 * HOUR_US, len(r_li))
    r_course = L.pref[r_li, np.minimum(n_used[r_li] + 3 + seg_arange(n_car), PREF_LEN - 1)]

    all_li = np.concatenate([e_li, x_li, r_li])
    all_course = np.concatenate([e_course, x_course, r_course])
    all_at = np.concatenate([enrolled, x_at, r_at])
    all_src = np.concatenate([src, rng.choice(5, size=len(x_li), p=[0.3, 0.4, 0.2, 0.05, 0.05]), np.full(len(r_li), 2)])
    all_done = np.concatenate([e_done, np.zeros(len(x_li) + len(r_li), np.int64)])
    all_last = np.concatenate([e_last, x_at, r_at])
    # a retired course takes no enrolments after retirement: swap in a spare course of the learner
    ret = world.retired_at[all_course]
    bad = (ret >= 0) & (all_at > ret) & (all_done == 0)
    spare = L.pref[all_li[bad], PREF_LEN - 1 - (np.arange(bad.sum()) % 3)]
    all_course[bad] = spare
    # unenrolments (about 10%) after the last activity, and re-enrolments (about 2%)
    incomplete = all_done < world.n_items[all_course]
    unen = incomplete & (rng.random(len(all_li)) < 0.17)
    un_at = all_last + uniform_int64(rng, DAY_US, 20 * DAY_US, len(all_li))
    unen &= un_at < A - HOUR_US
    re = unen & (rng.random(len(all_li)) < 0.2)
    re_at = un_at + uniform_int64(rng, DAY_US, 20 * DAY_US, len(all_li))
    re &= re_at < A - HOUR_US
    ri = np.flatnonzero(re)
    enr_li = np.concatenate([all_li, all_li[ri]])
    enr = {
        "enrollment_id": None,
        "learner_id": Col("int8", L.lid[enr_li]),
        "course_id": Col("int8", world.course_id[np.concatenate([all_course, all_course[ri]])]),
        "enrolled_at": Col("ts", np.concatenate([all_at, re_at[ri]])),
        "unenrolled_at": Col("ts", np.concatenate([np.where(unen, un_at, 0), np.zeros(len(ri), np.int64)]),
                             np.concatenate([~unen, np.ones(len(ri), bool)])),
        "source": Col("text", SOURCE_BYTES[np.concatenate([all_src, all_src[ri]])]),
    }
    m_rows = len(enr_li)
    # messy enrolments: unenrolled before enrolled, orphan learners, orphan courses
    flip = _pick(rng, m_rows, 0.001)
    un_vals, un_null = enr["unenrolled_at"].values.copy(), enr["unenrolled_at"].null.copy()
    un_vals[flip] = enr["enrolled_at"].values[flip] - uniform_int64(rng, HOUR_US, 5 * DAY_US, len(flip))
    un_null[flip] = False
    enr["unenrolled_at"] = Col("ts", un_vals, un_null)
    body = {k: v for k, v in enr.items() if v is not None}
    o1 = _take_cols(body, _pick(rng, m_rows, 0.0015))
    o1["learner_id"] = Col("int8", ORPHAN_LEARNER_BASE + rng.integers(0, 10**6, len(o1["learner_id"].values)))
    o2 = _take_cols(body, _pick(rng, m_rows, 0.002))
    o2["course_id"] = Col("int8", ORPHAN_COURSE_BASE + rng.integers(0, 1000, len(o2["course_id"].values)))
    rows = _concat_cols([body, o1, o2])
    order = np.argsort(rows["enrolled_at"].values, kind="stable")
    rows = _take_cols(rows, order)
    rows = {"enrollment_id": Col("int8", ids.take("enrollment", len(order))), **rows}
    # what later steps need: the learner's enrolled courses (demand ones first)
    enrolled_courses = (all_li, all_course, all_at, all_done)
    sessions = (c_li, session)
    next_item = (n_used, course_k, count_k, last_done, e_li, e_k, enrolled, started)
    return comps, rows, enrolled_courses, sessions, next_item, (r_li, r_course, r_at, x_li, x_course, x_at)


# ----------------------------------------------------------------------------------------------
# events
# ----------------------------------------------------------------------------------------------


def make_events(world: World, rng: np.random.Generator, L: Learners, comps: Completions, sessions, dangling, extra_enrol):
    A = world.t_anchor
    n = len(L.lid)
    hist0 = A - HISTORY_DAYS * DAY_US
    c_li, session = sessions
    parts_li, parts_type, parts_course, parts_item, parts_at = [], [], [], [], []

    def add(li, etype, course, item, at):
        parts_li.append(li)
        parts_type.append(np.full(len(li), etype, np.int8) if np.isscalar(etype) else etype.astype(np.int8))
        parts_course.append(course)
        parts_item.append(item)
        parts_at.append(at)

    none = lambda k: np.full(k, -1, np.int64)  # noqa: E731
    # study sessions: session_start then a course_view of the day's first course
    cell_has = np.bincount(comps.session, minlength=len(c_li))
    cell_first = group_starts(cell_has)
    live = np.flatnonzero(cell_has > 0)
    first_course = comps.course[cell_first[live]]
    add(c_li[live], EV["session_start"], none(len(live)), none(len(live)), session[live] - uniform_int64(rng, 5 * SECOND_US, 60 * SECOND_US, len(live)))
    add(c_li[live], EV["course_view"], world.course_id[first_course], none(len(live)), session[live])
    add(comps.learner, EV["item_start"], world.course_id[comps.course], comps.item, comps.start)
    add(comps.learner, EV["item_complete"], world.course_id[comps.course], comps.item, comps.done)
    # the next item of an unfinished course, started and left
    d_li, d_course, d_item, d_at = dangling
    add(d_li, EV["item_start"], world.course_id[d_course], d_item, d_at)
    # enrolments that never started: a course view at enrolment
    r_li, r_course, r_at, x_li, x_course, x_at = extra_enrol
    add(np.concatenate([r_li, x_li]), EV["course_view"], world.course_id[np.concatenate([r_course, x_course])], none(len(r_li) + len(x_li)),
        np.concatenate([r_at, x_at]) + uniform_int64(rng, SECOND_US, 5 * MINUTE_US, len(r_li) + len(x_li)))
    # browsing: course views mostly in the learner's co-view cluster (the co-view signal)
    nb = rng.poisson(np.where(L.enroller, 14.0, 9.0))
    b_li = np.repeat(np.arange(n), nb)
    lo = np.maximum(L.signup, hist0)[b_li]
    b_at = uniform_int64(rng, lo, np.full(len(b_li), A - 2 * MINUTE_US))
    rank = np.minimum(rng.geometric(0.4, len(b_li)) - 1, PREF_LEN - 1)
    b_course = L.pref[b_li, rank]
    sess = rng.random(len(b_li)) < 0.5
    add(b_li[sess], EV["session_start"], none(sess.sum()), none(sess.sum()), b_at[sess] - uniform_int64(rng, 5 * SECOND_US, 60 * SECOND_US, sess.sum()))
    add(b_li, EV["course_view"], world.course_id[b_course], none(len(b_li)), b_at)
    # searches
    ns = rng.poisson(5.0, n)
    s_li = np.repeat(np.arange(n), ns)
    s_at = uniform_int64(rng, np.maximum(L.signup, hist0)[s_li], np.full(len(s_li), A - 2 * MINUTE_US))
    add(s_li, EV["search"], none(len(s_li)), none(len(s_li)), s_at)

    li = np.concatenate(parts_li)
    etype = np.concatenate(parts_type)
    course = np.concatenate(parts_course)
    item = np.concatenate(parts_item)
    occurred = np.minimum(np.concatenate(parts_at), A - MINUTE_US)
    learner_id = L.lid[li]
    device = np.where(rng.random(len(li)) < 0.9, L.device[li], rng.integers(0, 3, len(li)))
    query = rng.integers(0, len(SEARCH_TERMS), len(li))
    signup = L.signup[li]
    return finish_events(rng, A, learner_id, etype, course, item, occurred, device, query, signup, li_for_unknown=(L.lid, np.maximum(L.signup, hist0)))


def finish_events(rng, horizon, learner_id, etype, course, item, occurred, device, query, signup, li_for_unknown, min_received=None):
    """Add the messy cases to clean events and return COPY columns sorted by received_at.

    ``horizon`` caps received_at (the anchor, or the end of an appended day); ``min_received``
    (append mode) is the old watermark, which every new received_at must exceed.
    """
    N = len(learner_id)
    received = occurred + uniform_int64(rng, 200_000, 20 * SECOND_US, N)
    if min_received is not None:
        received = np.maximum(received, min_received + 1)
    received = np.minimum(received, horizon - 1)
    # late arrivals (kept: valid): received 1 to 10 days after occurred
    if min_received is None:
        room_days = (horizon - 1 - occurred) / DAY_US
        cand = np.flatnonzero(room_days > 1.05)
        late = cand[_pick(rng, len(cand), 0.02 * N / max(len(cand), 1))] if len(cand) else cand
        lat = 1.0 + rng.random(len(late)) * (np.minimum(10, room_days[late] - 0.01) - 1.0)
        received[late] = occurred[late] + (lat * DAY_US).astype(np.int64)
    else:  # an increment: events of earlier days that arrive only now
        late = _pick(rng, N, 0.02)
        occurred[late] = received[late] - (rng.uniform(1.0, 10.0, len(late)) * DAY_US).astype(np.int64)
    non_item = np.flatnonzero((etype != EV["item_start"]) & (etype != EV["item_complete"]))
    pick = rng.permutation(non_item)
    n_future = int(round(0.003 * N))
    n_before = int(round(0.002 * N))
    fut = pick[:n_future]
    occurred[fut] = received[fut] + uniform_int64(rng, int(1.5 * DAY_US), 60 * DAY_US, len(fut))
    bef = pick[n_future : n_future + n_before]
    occurred[bef] = signup[bef] - uniform_int64(rng, HOUR_US, 20 * DAY_US, len(bef))
    event_id = uuids(rng, N)
    # unknown event types: extra rows from block learners
    n_unk = int(round(0.005 * N))
    lids, lo = li_for_unknown
    u = rng.integers(0, len(lids), n_unk)
    u_occ = uniform_int64(rng, lo[u], np.full(n_unk, horizon - 2 * MINUTE_US)) if min_received is None else uniform_int64(rng, np.full(n_unk, min_received), np.full(n_unk, horizon - 2 * MINUTE_US))
    u_rec = np.minimum(u_occ + uniform_int64(rng, 200_000, 20 * SECOND_US, n_unk), horizon - 1)
    if min_received is not None:
        u_rec = np.maximum(u_rec, min_received + 1)
    # orphan learners: copies of browsing-type events under an unknown learner_id
    n_orph = int(round(0.0015 * N))
    o = rng.choice(non_item, size=min(n_orph, len(non_item)), replace=False) if len(non_item) else np.zeros(0, np.int64)
    learner_id = np.concatenate([learner_id, lids[u], ORPHAN_LEARNER_BASE + rng.integers(0, 10**6, len(o))])
    etype = np.concatenate([etype, rng.integers(len(T.KNOWN_EVENT_TYPES), len(EVENT_TYPES), n_unk).astype(np.int8), etype[o]])
    course = np.concatenate([course, np.full(n_unk, -1), course[o]])
    item = np.concatenate([item, np.full(n_unk, -1), item[o]])
    occurred = np.concatenate([occurred, u_occ, occurred[o]])
    received = np.concatenate([received, u_rec, received[o]])
    device = np.concatenate([device, rng.integers(0, 3, n_unk), device[o]])
    query = np.concatenate([query, rng.integers(0, len(SEARCH_TERMS), n_unk), query[o]])
    event_id = np.concatenate([event_id, uuids(rng, n_unk + len(o))])
    # at-least-once delivery: the same event again, received later
    total = len(learner_id)
    d = _pick(rng, total, 0.01)
    d_rec = np.minimum(received[d] + uniform_int64(rng, 30 * SECOND_US, DAY_US, len(d)), horizon - 1)
    d_rec = np.maximum(d_rec, received[d])
    sel = np.concatenate([np.arange(total), d])
    received = np.concatenate([received, d_rec])
    order = np.argsort(received, kind="stable")
    sel = sel[order]
    received = received[order]
    etype = etype[sel]
    is_search = etype == EV["search"]
    props = DEVICE_JSON[device[sel]].astype(SEARCH_JSON.dtype)
    props[is_search] = SEARCH_JSON[query[sel][is_search] * 3 + device[sel][is_search]]
    c = course[sel]
    it = item[sel]
    return {
        "event_id": Col("uuid", event_id[sel]),
        "learner_id": Col("int8", learner_id[sel]),
        "event_type": Col("text", EVENT_TYPE_BYTES[etype]),
        "course_id": Col("int8", c, c < 0),
        "item_id": Col("int8", it, it < 0),
        "occurred_at": Col("ts", occurred[sel]),
        "received_at": Col("ts", received),
        "properties": Col("jsonb", props),
    }


# ----------------------------------------------------------------------------------------------
# submissions
# ----------------------------------------------------------------------------------------------


def attempts_scores(rng, ability, n_att, hint_flip_mask_fn):
    """Scores of attempts 1..n_att per graded item; returns (row index, attempt number, score)."""
    rows = np.repeat(np.arange(len(n_att)), n_att)
    attempt = seg_arange(n_att) + 1
    mu = ability[rows] + 0.04 * (attempt - 1)
    score = mu + rng.normal(0, 0.12, len(rows))
    passed = score >= T.PASS_SCORE
    in_hint = hint_flip_mask_fn(rows, attempt)
    if in_hint.any():
        p_pass = 1 - ndtr((T.PASS_SCORE - mu) / 0.12)
        eff = T.EFFECTS[("hint_styles", "hint_a", "quiz_pass_rate")][0]
        flip_p = np.minimum(1.0, eff / np.maximum(1 - p_pass, 1e-9))
        flip = in_hint & ~passed & (rng.random(len(rows)) < flip_p)
        score[flip] = rng.uniform(T.PASS_SCORE, 1.0, flip.sum())
    return rows, attempt, np.clip(score, 0.0, 1.0)


def make_submissions(world: World, rng, L: Learners, comps: Completions, dangling, asg, ids: IdCounters) -> dict[str, Col]:
    A = world.t_anchor
    d_li, d_course, d_item, d_at = dangling
    graded = world.item_graded[comps.item - 1]
    g = np.flatnonzero(graded)
    dg = np.flatnonzero(world.item_graded[d_item - 1])
    li = np.concatenate([comps.learner[g], d_li[dg]])
    item = np.concatenate([comps.item[g], d_item[dg]])
    course = np.concatenate([comps.course[g], d_course[dg]])
    t_start = np.concatenate([comps.start[g], d_at[dg]])
    t_end = np.concatenate([comps.done[g], np.minimum(d_at[dg] + 40 * MINUTE_US, A - MINUTE_US)])
    n_att = rng.choice([1, 2, 3], size=len(li), p=[0.7, 0.22, 0.08])
    ability = L.ability[li, world.domain[course]]
    hint = asg["hint_styles"]

    def hint_mask(rows, attempt):
        at = t_start[rows] + (t_end[rows] - t_start[rows]) * attempt // (n_att[rows] + 1)
        lr = li[rows]
        return hint.assigned[lr] & (hint.variant[lr] == 1) & (at >= hint.t0[lr]) & (at < hint.t0[lr] + T.WINDOW_DAYS * DAY_US)

    rows, attempt, score = attempts_scores(rng, ability, n_att, hint_mask)
    at = t_start[rows] + (t_end[rows] - t_start[rows]) * attempt // (n_att[rows] + 1)
    r_li = li[rows]
    # struggling learners (outside hint_styles): fail everything in the last 14 days
    struggling = (rng.random(len(L.lid)) < 0.04) & ~hint.assigned
    low = struggling[r_li] & (at >= A - 14 * DAY_US)
    score[low] = rng.uniform(0.1, 0.6, low.sum())
    N = len(rows)
    null = np.zeros(N, bool)
    perm = rng.permutation(N)
    k = int(round(0.005 * N))
    null[perm[:k]] = True
    score[perm[k : 2 * k]] = rng.choice([1.5, -0.2, 7.0], size=len(perm[k : 2 * k]))
    body = {
        "learner_id": Col("int8", L.lid[r_li]),
        "item_id": Col("int8", item[rows]),
        "attempt_number": Col("int4", attempt),
        "score": Col("numeric", np.round(score, 4), null),
        "submitted_at": Col("ts", at),
    }
    body = {"submission_id": Col("int8", ids.take("submission", N)), **body}
    dup = _take_cols(body, _pick(rng, N, 0.003))
    orph = _take_cols(body, _pick(rng, N, 0.0015))
    orph["learner_id"] = Col("int8", ORPHAN_LEARNER_BASE + rng.integers(0, 10**6, len(orph["learner_id"].values)))
    orph["submission_id"] = Col("int8", ids.take("submission", len(orph["learner_id"].values)))
    return _concat_cols([body, dup, orph])


# ----------------------------------------------------------------------------------------------
# coaching, goals, impressions, model scores
# ----------------------------------------------------------------------------------------------


def message_catalogue(world: World):
    keys = [m["message_key"] for m in world.messages]
    help_p = np.array([
        T.PAUSED_MESSAGE_HELPFULNESS if k == T.PAUSED_MESSAGE_KEY else T.HELPFULNESS_BY_TYPE[m["message_type"]]
        for k, m in zip(keys, world.messages)
    ])
    volume = np.array([T.PAUSED_MESSAGE_VOLUME_FACTOR if k == T.PAUSED_MESSAGE_KEY else 1 for k in keys], float)
    return text_array(keys + [T.UNKNOWN_MESSAGE_KEY]), help_p, volume / volume.sum()


@dataclass
class MessagePlan:
    """Who gets which coaching message when (before the course is chosen): one entry per message."""

    li: np.ndarray  # learner index in the block
    sent: np.ndarray
    key: np.ndarray  # index into the catalogue keys (the last one is the unknown key)
    forced: np.ndarray  # a suppression learner's planted message
    bad: np.ndarray  # ... one of the two dismissed or rated unhelpful


def plan_messages(world: World, rng, L: Learners, has: np.ndarray, t_from=None, t_to=None, rate=6.0) -> MessagePlan:
    """Send times and keys of the coaching messages of the block (holdout learners get none)."""
    A = world.t_anchor
    n = len(L.lid)
    t_to = A if t_to is None else t_to
    t_from = A - 60 * DAY_US if t_from is None else t_from
    keys, _, vol = message_catalogue(world)
    lo = np.maximum(L.first_enrol, t_from)
    span = np.clip((t_to - HOUR_US - lo) / (60 * DAY_US), 0, None)
    eligible = has & L.enroller & (span > 0) & ~holdout_mask(L.lid)
    suppress = eligible & (L.first_enrol < t_to - 14 * DAY_US) & (rng.random(n) < 0.03) & (t_to - t_from >= 30 * DAY_US)
    cnt = np.where(eligible, rng.poisson(rate * span), 0)
    m_li = np.repeat(np.arange(n), cnt)
    sent = uniform_int64(rng, lo[m_li], np.full(len(m_li), t_to - HOUR_US))
    drop = suppress[m_li] & (sent >= t_to - 14 * DAY_US)
    m_li, sent = m_li[~drop], sent[~drop]
    key = rng.choice(len(vol), size=len(m_li), p=vol)
    # suppression learners: three recent messages, two of them dismissed or rated unhelpful
    s_idx = np.flatnonzero(suppress)
    s_li = np.repeat(s_idx, 3)
    s_sent = t_to - np.tile(np.array([13, 9, 4]) * DAY_US, len(s_idx)) + uniform_int64(rng, 0, 20 * HOUR_US, len(s_li))
    s_key = rng.choice(len(vol), size=len(s_li), p=vol)
    m_li = np.concatenate([m_li, s_li])
    sent = np.concatenate([sent, s_sent])
    key = np.concatenate([key, s_key])
    forced = np.concatenate([np.zeros(len(m_li) - len(s_li), bool), np.ones(len(s_li), bool)])
    bad_slot = np.ones((len(s_idx), 3), bool)
    bad_slot[np.arange(len(s_idx)), rng.integers(0, 3, len(s_idx))] = False
    bad = np.concatenate([np.zeros(len(m_li) - len(s_li), bool), bad_slot.ravel()])
    unknown = rng.random(len(m_li)) < 0.001
    key = np.where(unknown, len(keys) - 1, key)
    return MessagePlan(m_li, sent, key, forced, bad)


def helpful_message_days(world: World, plan: MessagePlan) -> tuple[np.ndarray, np.ndarray]:
    """(learner index, day relative to the anchor) of the days a received helpful message lifts:
    the LIFT_WINDOW_DAYS UTC days after the day it was sent."""
    keys = [m["message_key"] for m in world.messages]
    if T.HELPFUL_MESSAGE_KEY not in keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    h = np.flatnonzero(plan.key == keys.index(T.HELPFUL_MESSAGE_KEY))
    sent_day = (plan.sent[h] - world.t_anchor) // DAY_US
    w = T.LIFT_WINDOW_DAYS
    return np.repeat(plan.li[h], w), np.repeat(sent_day, w) + np.tile(np.arange(1, w + 1), len(h))


def make_coaching(world: World, rng, L: Learners, enrolled_courses, ids: IdCounters, t_from=None, t_to=None, rate=6.0,
                  plan: MessagePlan | None = None):
    A = world.t_anchor
    n = len(L.lid)
    t_to = A if t_to is None else t_to
    t_from = A - 60 * DAY_US if t_from is None else t_from
    keys, help_p, vol = message_catalogue(world)
    e_li, e_course = enrolled_courses[0], enrolled_courses[1]
    if plan is None:
        plan = plan_messages(world, rng, L, np.bincount(e_li, minlength=n) > 0, t_from, t_to, rate)
    m_li, sent, key, forced, bad = plan.li, plan.sent, plan.key, plan.forced, plan.bad
    # course: one of the learner's enrolled courses
    per = np.bincount(e_li, minlength=n)
    starts = group_starts(per)
    order = np.argsort(e_li, kind="stable")
    choice = starts[m_li] + np.where(rng.random(len(m_li)) < 0.5, 0, (rng.random(len(m_li)) * per[m_li]).astype(np.int64))
    course = e_course[order][choice]
    M = len(m_li)
    mid = ids.take("message", M)
    order_m = np.argsort(sent, kind="stable")
    messages = {
        "message_id": Col("int8", mid),
        "learner_id": Col("int8", L.lid[m_li[order_m]]),
        "course_id": Col("int8", world.course_id[course[order_m]]),
        "message_key": Col("text", keys[key[order_m]]),
        "channel": Col("text", CHANNELS[(rng.random(M) < 0.3).astype(np.int64)]),
        "sent_at": Col("ts", sent[order_m]),
    }
    key, forced, sent, bad_full = key[order_m], forced[order_m], sent[order_m], bad[order_m]
    # interactions
    hp = np.append(help_p, 0.35)[key]
    viewed = (rng.random(M) < 0.8) | forced
    clicked = viewed & ~forced & (rng.random(M) < 0.3)
    dismissed = viewed & ~forced & (rng.random(M) < 0.15)
    rated = viewed & ~forced & (rng.random(M) < 0.4)
    helpful = rng.random(M) < hp
    forced_dismiss = forced & bad_full & (rng.random(M) < 0.5)
    forced_unhelpful = forced & bad_full & ~forced_dismiss
    kinds, msg, at = [], [], []
    for mask, code in ((viewed, 0), (clicked, 1), (dismissed | forced_dismiss, 2), ((rated & helpful), 3), ((rated & ~helpful) | forced_unhelpful, 4)):
        idx = np.flatnonzero(mask)
        kinds.append(np.full(len(idx), code))
        msg.append(idx)
        delay = uniform_int64(rng, MINUTE_US, 2 * DAY_US, len(idx)) if code == 0 else uniform_int64(rng, 2 * MINUTE_US, 3 * DAY_US, len(idx))
        at.append(np.minimum(sent[idx] + delay, t_to - 1))
    kinds, msg, at = np.concatenate(kinds), np.concatenate(msg), np.concatenate(at)
    n_inter = len(kinds)
    n_orph = int(round(0.002 * n_inter))
    n_unk = int(round(0.002 * n_inter))
    unk_src = rng.integers(0, max(M, 1), n_unk) if M else np.zeros(0, np.int64)
    inter_msg = np.concatenate([mid[msg], ORPHAN_MESSAGE_BASE + rng.integers(0, 10**6, n_orph), mid[unk_src]])
    inter_kind = np.concatenate([kinds, rng.integers(0, 5, n_orph), np.full(len(unk_src), 5)])
    inter_at = np.concatenate([at, uniform_int64(rng, np.full(n_orph, t_from), np.full(n_orph, t_to - 1)),
                               np.minimum(sent[unk_src] + uniform_int64(rng, MINUTE_US, DAY_US, len(unk_src)), t_to - 1)])
    o = np.argsort(inter_at, kind="stable")
    interactions = {
        "message_id": Col("int8", inter_msg[o]),
        "interaction": Col("text", INTERACTION_BYTES[inter_kind[o]]),
        "occurred_at": Col("ts", inter_at[o]),
    }
    return messages, interactions


def make_goals(world: World, rng, L: Learners, ids: IdCounters) -> dict[str, Col]:
    A = world.t_anchor
    n = len(L.lid)
    has = rng.random(n) < 0.4
    g = np.flatnonzero(has)
    G = len(g)
    gtype = rng.choice(4, size=G, p=[0.35, 0.25, 0.2, 0.2])
    course = L.pref[g, 0]
    course_null = (gtype != 0)
    created = uniform_int64(rng, L.signup[g], np.full(G, A - HOUR_US))
    created_day = created // DAY_US
    target = created_day + rng.integers(14, 120, G)
    anchor_day = A // DAY_US
    soon = rng.random(G) < 0.12
    target = np.where(soon, anchor_day + rng.integers(0, 7, G), target)
    target_null = (gtype == 1) & (rng.random(G) < 0.5) & ~soon
    withdrawn = rng.random(G) < 0.10
    w_at = uniform_int64(rng, created, np.full(G, A - MINUTE_US))
    text_choice = rng.integers(0, 3, G)
    texts = []
    with_email = rng.random(G) < 0.10
    for t, c, we, em in zip(gtype, text_choice, with_email, L.email[g]):
        base = GOAL_TEXTS[GOAL_TYPES[t]][c]
        texts.append(f"{base}. Accountability buddy: {em.decode()}" if we else base)
    return {
        "goal_id": Col("int8", ids.take("goal", G)),
        "learner_id": Col("int8", L.lid[g]),
        "course_id": Col("int8", world.course_id[course], course_null),
        "goal_type": Col("text", text_array(GOAL_TYPES)[gtype]),
        "goal_text": Col("text", text_array(texts) if G else np.zeros(0, "S1")),
        "target_date": Col("date", target, target_null),
        "created_at": Col("ts", created),
        "withdrawn_at": Col("ts", w_at, ~withdrawn),
    }


def make_impressions(world: World, rng, L: Learners, ids: IdCounters, t_from=None, t_to=None, slates_per_learner=2.0) -> dict[str, Col]:
    A = world.t_anchor
    t_to = A if t_to is None else t_to
    t_from = A - 30 * DAY_US if t_from is None else t_from
    n = len(L.lid)
    lo = np.maximum(L.signup, t_from)
    ok = lo < t_to - 2 * MINUTE_US
    span = np.clip((t_to - lo) / max(t_to - t_from, 1), 0, 1)
    ns = np.where(ok, rng.poisson(slates_per_learner * span), 0)
    s_li = np.repeat(np.arange(n), ns)
    S = len(s_li)
    shown = uniform_int64(rng, lo[s_li], np.full(S, t_to - 2 * MINUTE_US))
    module = rng.integers(0, 4, S)
    # live courses only, in the learner's preference order; popular = global popularity order
    retired = world.retired_at >= 0
    live_pref = np.take_along_axis(L.pref, np.argsort(retired[L.pref], axis=1, kind="stable"), axis=1)
    popular = np.argsort(-np.where(retired, -1.0, world.popularity), kind="stable")[:10]
    pos = np.tile(np.arange(10), S)
    rows = np.repeat(np.arange(S), 10)
    mod = module[rows]
    lr = s_li[rows]
    offset = np.select([mod == 0, mod == 1, mod == 3], [0, 2, 5], default=0)
    shuffle = rng.integers(0, 3, len(rows)) * (mod == 1)
    col = np.minimum(pos + offset + shuffle, PREF_LEN - 1)
    course = np.where(mod == 2, popular[pos % len(popular)], live_pref[lr, col])
    course = np.where(retired[course], popular[pos % len(popular)], course)
    ctr = np.array(list(T.CTR_BY_MODULE.values()))
    clicked = rng.random(len(rows)) < ctr[mod]
    t_shown = shown[rows]
    c_at = np.minimum(t_shown + uniform_int64(rng, 2 * SECOND_US, 10 * MINUTE_US, len(rows)), t_to - 1)
    o = np.argsort(t_shown, kind="stable")
    return {
        "impression_id": Col("int8", ids.take("impression", len(rows))),
        "learner_id": Col("int8", L.lid[lr][o]),
        "module": Col("text", MODULE_BYTES[mod][o]),
        "course_id": Col("int8", world.course_id[course][o]),
        "position": Col("int4", pos[o] + 1),
        "shown_at": Col("ts", t_shown[o]),
        "clicked_at": Col("ts", c_at[o], ~clicked[o]),
    }


def make_model_scores(world: World, rng, L: Learners) -> dict[str, Col]:
    A = world.t_anchor
    n = len(L.lid)
    erng = np.random.default_rng([world.seed, 7_000_002])
    centroid = erng.normal(0, 1, (len(world.cluster_pop), EMBED_DIM))
    course_emb = centroid[world.cluster] + erng.normal(0, 0.5, (world.n_courses, EMBED_DIM))
    user_emb = 0.8 * centroid[L.home] + rng.normal(0, 0.6, (n, EMBED_DIM))
    k = min(20, PREF_LEN, world.n_courses)  # no course twice in a batch when the catalogue is small
    parts = []
    b2_learners = L.enroller & (L.signup < A - 3 * DAY_US - HOUR_US)
    for batch_id, (model, version, days, complete) in T.MODEL_BATCHES.items():
        if batch_id == "mf_als-b3":
            who = b2_learners & (rng.random(n) < T.INCOMPLETE_BATCH_SHARE)
            base, spread = A - 2 * HOUR_US, int(1.5 * HOUR_US)
        else:
            who = L.enroller & (L.signup < A - days * DAY_US - HOUR_US)
            base, spread = A - days * DAY_US + HOUR_US, 2 * HOUR_US
        w = np.flatnonzero(who)
        rows = np.repeat(w, k)
        courses = L.pref[w, :k].ravel()
        noise = 0.5 if model == "mf_als" else 0.8
        score = np.einsum("ij,ij->i", user_emb[rows], course_emb[courses]) + rng.normal(0, noise, len(rows))
        parts.append({
            "model_name": Col("text", np.full(len(rows), model.encode())),
            "model_version": Col("text", np.full(len(rows), version.encode())),
            "batch_id": Col("text", np.full(len(rows), batch_id.encode())),
            "learner_id": Col("int8", L.lid[rows]),
            "course_id": Col("int8", world.course_id[courses]),
            "score": Col("float8", score),
            "scored_at": Col("ts", base + uniform_int64(rng, 0, spread, len(rows))),
        })
    return _concat_cols(parts)


# ----------------------------------------------------------------------------------------------
# a whole block
# ----------------------------------------------------------------------------------------------


def dangling_starts(world: World, rng, L: Learners, comps: Completions, next_item):
    """The next item of the learner's current course, started after the last completion and left."""
    A = world.t_anchor
    n_used, course_k, count_k, last_done, *_ = next_item
    li = np.flatnonzero(n_used > 0)
    kk = n_used[li] - 1
    done = count_k[li, kk]
    course = course_k[li, kk]
    ok = (done > 0) & (done < world.n_items[course]) & (rng.random(len(li)) < 0.5)
    li, kk, done, course = li[ok], kk[ok], done[ok], course[ok]
    at = np.minimum(last_done[li, kk] + uniform_int64(rng, MINUTE_US, 20 * MINUTE_US, len(li)), A - 2 * MINUTE_US)
    return li, course, world.item_first[course] + done, at


def simulate_block(world: World, block: int, start_id: int, n: int, ids: IdCounters) -> dict[str, dict[str, Col]]:
    rng = np.random.default_rng([world.seed, 1, block])
    L = make_learners(world, rng, start_id, n)
    out: dict[str, dict[str, Col]] = {"learners": learner_rows(world, rng, L)}
    asg = assign_experiments(world, rng, L)
    out["experiment_assignments"] = assignment_rows(world, rng, L, asg)
    # coaching messages are planned first (their own generator): the helpful one lifts study days
    crng = np.random.default_rng([world.seed, 1, block, 5])
    plan = plan_messages(world, crng, L, L.enroller)
    lifted = (crng, *helpful_message_days(world, plan))
    comps, enrol_rows, enrolled_courses, sessions, next_item, extra = completions_and_enrolments(world, rng, L, asg, ids, lifted)
    out["enrollments"] = enrol_rows
    dangling = dangling_starts(world, rng, L, comps, next_item)
    out["assessment_submissions"] = make_submissions(world, rng, L, comps, dangling, asg, ids)
    out["coaching_messages"], out["coaching_interactions"] = make_coaching(world, rng, L, enrolled_courses, ids, plan=plan)
    out["learner_goals"] = make_goals(world, rng, L, ids)
    out["recommendation_impressions"] = make_impressions(world, rng, L, ids)
    out["model_scores"] = make_model_scores(world, rng, L)
    out["events"] = make_events(world, rng, L, comps, sessions, dangling, extra)
    return out
