"""The catalogue every learner block shares: seeds, courses, items, skills, co-view clusters."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "seeds"
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000
HISTORY_DAYS = 120
DOMAINS = ("data_science", "programming", "business", "design", "languages", "health")
DIFFICULTIES = ("beginner", "intermediate", "advanced")
ITEM_TYPES = ("lecture", "reading", "quiz", "assignment")
ITEM_TYPE_P = (0.45, 0.25, 0.20, 0.10)
ITEM_MINUTES = {"lecture": (5, 25), "reading": (5, 20), "quiz": (5, 15), "assignment": (20, 60)}
TOPIC_WORDS = {
    "data_science": ("Data Analysis", "Machine Learning", "Statistics", "Visualisation", "Deep Learning", "Forecasting"),
    "programming": ("Python", "JavaScript", "Algorithms", "Testing", "Web Development", "Cloud"),
    "business": ("Project Management", "Finance", "Marketing", "Negotiation", "Strategy", "Leadership"),
    "design": ("UX Research", "Graphic Design", "Interaction Design", "Typography", "Design Systems", "Prototyping"),
    "languages": ("Spanish", "Business English", "Mandarin", "French", "German", "Italian"),
    "health": ("Nutrition", "Public Health", "Mental Health", "Anatomy", "Exercise Science", "Sleep"),
}
LEVEL_WORDS = ("Foundations of", "Practical", "Applied", "Advanced", "Introduction to", "Mastering")
CLUSTER_SIZE = 5


def anchor_us(anchor: dt.date) -> int:
    """The anchor date's midnight UTC in Unix microseconds."""
    return int(dt.datetime(anchor.year, anchor.month, anchor.day, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000


def n_courses_for(learners: int) -> int:
    """40 courses up to 10k learners, then learners/250, at most 400."""
    return int(min(400, max(40, learners // 250)))


def read_seed(name: str, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    path = seeds_dir / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"seed {path} is missing: the generator reads the skill and message catalogues from seeds/")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass
class World:
    seed: int
    learners: int
    anchor: dt.date
    t_anchor: int
    skills: list[dict[str, str]]
    messages: list[dict[str, str]]
    # courses, indexed by course_id - 1
    course_id: np.ndarray
    domain: np.ndarray  # index into DOMAINS
    cluster: np.ndarray  # global cluster id
    difficulty: np.ndarray
    popularity: np.ndarray  # sums to 1
    launched_at: np.ndarray
    retired_at: np.ndarray  # -1 = not retired
    slug: list[str]
    title: list[str]
    n_items: np.ndarray
    item_first: np.ndarray  # item_id of the course's first item
    # items, indexed by item_id - 1
    item_course: np.ndarray
    item_module: np.ndarray
    item_index: np.ndarray
    item_type: np.ndarray  # index into ITEM_TYPES
    item_minutes: np.ndarray
    cluster_domain: np.ndarray
    cluster_pop: np.ndarray
    course_skill_rows: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_courses(self) -> int:
        return len(self.course_id)

    @property
    def retired(self) -> np.ndarray:
        return self.retired_at >= 0

    @property
    def item_graded(self) -> np.ndarray:
        return self.item_type >= 2


def build_world(learners: int, seed: int, anchor: dt.date, courses: int | None = None) -> World:
    """The catalogue; ``courses`` overrides :func:`n_courses_for` (a small catalogue, say 12)."""
    if courses is not None and courses < 1:
        raise ValueError("courses must be at least 1")
    rng = np.random.default_rng([seed, 7_000_001])
    t_anchor = anchor_us(anchor)
    skills = read_seed("skills")
    messages = read_seed("coaching_messages")
    n = n_courses_for(learners) if courses is None else courses
    course_id = np.arange(1, n + 1, dtype=np.int64)
    domain = rng.permutation(np.arange(n) % len(DOMAINS))
    # co-view clusters: within each domain, consecutive runs of about CLUSTER_SIZE courses
    cluster = np.empty(n, dtype=np.int64)
    cluster_domain = []
    next_cluster = 0
    for d in range(len(DOMAINS)):
        members = np.flatnonzero(domain == d)
        k = max(1, round(len(members) / CLUSTER_SIZE))
        for part in np.array_split(members, k):
            cluster[part] = next_cluster
            cluster_domain.append(d)
            next_cluster += 1
    cluster_domain = np.array(cluster_domain)
    cluster_pop = rng.dirichlet(np.full(next_cluster, 3.0))
    within = rng.lognormal(0.0, 0.6, n)
    popularity = cluster_pop[cluster] * within / np.bincount(cluster, weights=within)[cluster]
    popularity /= popularity.sum()
    difficulty = rng.choice(3, size=n, p=[0.45, 0.35, 0.20])
    launched_at = t_anchor - (400 + rng.integers(0, 900, n)) * DAY_US + rng.integers(0, DAY_US, n)
    retired = rng.random(n) < 0.05
    if not retired.any():
        retired[rng.integers(n)] = True
    retired_at = np.where(retired, t_anchor - rng.integers(5, 40, n) * DAY_US + rng.integers(0, DAY_US, n), -1)
    titles, slugs = [], []
    for i in range(n):
        words = TOPIC_WORDS[DOMAINS[domain[i]]]
        title = f"{LEVEL_WORDS[rng.integers(len(LEVEL_WORDS))]} {words[rng.integers(len(words))]}"
        titles.append(f"{title} {DIFFICULTIES[difficulty[i]].capitalize()} {i + 1}")
        slugs.append(f"{title.lower().replace(' ', '-')}-{i + 1}")
    n_items = rng.integers(8, 31, n)
    item_first = np.concatenate([[1], 1 + np.cumsum(n_items)[:-1]]).astype(np.int64)
    item_course = np.repeat(course_id, n_items)
    total = int(n_items.sum())
    item_pos = np.arange(total) - np.repeat(item_first - 1, n_items)
    # modules of 2-6 items: a module break before each item with probability 1/4
    brk = rng.random(total) < 0.25
    brk[item_pos == 0] = True
    module_start = np.maximum.accumulate(np.where(brk, np.arange(total), 0))
    item_module = np.empty(total, dtype=np.int64)
    cum_brk = np.cumsum(brk)
    first_brk = np.repeat(cum_brk[item_first - 1], n_items)
    item_module[:] = cum_brk - first_brk + 1
    item_index = np.arange(total) - module_start + 1
    item_type = rng.choice(4, size=total, p=ITEM_TYPE_P)
    lo = np.array([ITEM_MINUTES[t][0] for t in ITEM_TYPES])[item_type]
    hi = np.array([ITEM_MINUTES[t][1] for t in ITEM_TYPES])[item_type]
    item_minutes = rng.integers(lo, hi + 1)
    world = World(
        seed=seed, learners=learners, anchor=anchor, t_anchor=t_anchor, skills=skills, messages=messages,
        course_id=course_id, domain=domain, cluster=cluster, difficulty=difficulty, popularity=popularity,
        launched_at=launched_at, retired_at=retired_at, slug=slugs, title=titles, n_items=n_items,
        item_first=item_first, item_course=item_course, item_module=item_module, item_index=item_index,
        item_type=item_type, item_minutes=item_minutes, cluster_domain=cluster_domain, cluster_pop=cluster_pop,
    )
    world.course_skill_rows = _course_skills(world, rng)
    return world


def _course_skills(world: World, rng: np.random.Generator) -> dict[str, np.ndarray]:
    skill_ids = np.array([int(s["skill_id"]) for s in world.skills])
    skill_domain = np.array([DOMAINS.index(s["domain"]) for s in world.skills])
    cids, sids, weights = [], [], []
    for i, c in enumerate(world.course_id):
        pool = skill_ids[skill_domain == world.domain[i]]
        k = int(rng.integers(1, 4))
        chosen = rng.choice(pool, size=min(k, len(pool)), replace=False)
        w = np.round(rng.uniform(0.2, 1.0, len(chosen)), 2)
        w[0] = 1.0
        cids += [c] * len(chosen)
        sids += list(chosen)
        weights += list(w)
    weights = np.array(weights)
    # messy: one or two weights outside (0, 1]
    bad = rng.choice(len(weights), size=2, replace=False)
    weights[bad[0]] = 1.25
    weights[bad[1]] = 0.0
    return {"course_id": np.array(cids, dtype=np.int64), "skill_id": np.array(sids, dtype=np.int64), "weight": weights}


def course_clusters(learners: int = 10_000, seed: int = 42) -> dict[int, int]:
    """The planted co-view cluster of every course_id (cluster ids are not written to raw tables)."""
    world = build_world(learners, seed, dt.date(2000, 1, 1))  # clusters do not depend on the anchor
    return {int(c): int(k) for c, k in zip(world.course_id, world.cluster)}
