"""generate(): write every raw table, block by block, with COPY."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import numpy as np
from tqdm import tqdm

from .. import db
from . import activity
from .pgcopy import Col, Encoded, copy_encoded, encode_table, text_array
from .schema import INDEXES, ORDER, create_statements
from .world import DIFFICULTIES, DOMAINS, ITEM_TYPES, World, build_world

log = logging.getLogger(__name__)
BLOCK_LEARNERS = 5_000


def catalogue_rows(world: World) -> dict[str, dict[str, Col]]:
    courses = {
        "course_id": Col("int8", world.course_id),
        "slug": Col("text", text_array(world.slug)),
        "title": Col("text", text_array(world.title)),
        "domain": Col("text", text_array(DOMAINS)[world.domain]),
        "difficulty": Col("text", text_array(DIFFICULTIES)[world.difficulty]),
        "launched_at": Col("ts", world.launched_at),
        "retired_at": Col("ts", np.maximum(world.retired_at, 0), world.retired_at < 0),
    }
    items = {
        "item_id": Col("int8", np.arange(1, len(world.item_course) + 1, dtype=np.int64)),
        "course_id": Col("int8", world.item_course),
        "module_index": Col("int4", world.item_module),
        "item_index": Col("int4", world.item_index),
        "item_type": Col("text", text_array(ITEM_TYPES)[world.item_type]),
        "is_graded": Col("bool", world.item_graded),
        "estimated_minutes": Col("int4", world.item_minutes),
    }
    cs = world.course_skill_rows
    skills = {"course_id": Col("int8", cs["course_id"]), "skill_id": Col("int4", cs["skill_id"]), "weight": Col("numeric", cs["weight"])}
    experiments, variants = activity.experiment_rows(world)
    return {"courses": courses, "course_items": items, "course_skills": skills, "experiments": experiments, "experiment_variants": variants}


def _encoded_blocks(world: World, learners: int, block_size: int) -> Iterator[tuple[int, dict[str, Encoded]]]:
    """Blocks in order, each simulated and encoded on a worker thread one block ahead of COPY."""
    ids = activity.IdCounters()
    starts = list(range(0, learners, block_size))

    def work(b: int) -> tuple[int, dict[str, Encoded]]:
        n = min(block_size, learners - starts[b])
        tables = activity.simulate_block(world, b, starts[b], n, ids)
        return n, {name: encode_table(cols) for name, cols in tables.items()}

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(work, 0) if starts else None
        for b in range(len(starts)):
            result = pending.result()
            pending = pool.submit(work, b + 1) if b + 1 < len(starts) else None
            yield result


def generate(
    env: dict[str, str],
    learners: int = 10_000,
    seed: int = 42,
    anchor: dt.date | None = None,
    progress: bool = True,
    block_size: int = BLOCK_LEARNERS,
    courses: int | None = None,
) -> dict[str, int]:
    """Drop and recreate schema ``raw`` and fill every source table; returns row counts per table.

    Deterministic: the same ``learners``, ``seed``, ``anchor`` and ``courses`` give identical
    tables. ``courses`` sets the catalogue's size (default: it grows with ``learners``).
    """
    if learners < 1:
        raise ValueError("learners must be at least 1")
    anchor = anchor or dt.datetime.now(dt.timezone.utc).date()
    world = build_world(learners, seed, anchor, courses=courses)
    counts = {name: 0 for name in ORDER}
    with db.connect(env) as conn:
        for stmt in create_statements():
            conn.execute(stmt)
        for name, cols in catalogue_rows(world).items():
            counts[name] += copy_encoded(conn, f"raw.{name}", encode_table(cols))
        bar = tqdm(total=learners, unit="learner", desc="generate", disable=not progress)
        for n, tables in _encoded_blocks(world, learners, block_size):
            for name in ORDER:
                if name in tables:
                    counts[name] += copy_encoded(conn, f"raw.{name}", tables[name])
            bar.update(n)
            bar.set_postfix(events=f"{counts['events']:,}")
        bar.close()
        conn.commit()
    finish_load(env)
    return counts


def _run(env: dict[str, str], stmts: tuple[str, ...]) -> None:
    with db.connect(env, autocommit=True) as conn:
        conn.execute("set maintenance_work_mem = '256MB'")
        for stmt in stmts:
            conn.execute(stmt)


def finish_load(env: dict[str, str]) -> None:
    """Build the loader's indexes (one connection each, in parallel), then ANALYZE every raw table."""
    with ThreadPoolExecutor(max_workers=len(INDEXES)) as pool:
        for f in [pool.submit(_run, env, (stmt,)) for stmt in INDEXES]:
            f.result()
    _run(env, ("analyze " + ", ".join(f"raw.{name}" for name in ORDER),))
