"""Benchmark: a learner's item-item recommendation lists computed on read, against the stored ones.

The daily build recomputes every learner's lists; computing them when a consumer asks, from small
precomputed parts, is one way the daily work could grow with the day (docs/benchmarks.md). This
computes the live `recent_activity` and `because_you_viewed` lists of one learner from the parts
they are built from (int_reco_interactions, int_reco_course_similarities, int_reco_catalogue,
int_reco_exclusions), as int_reco_lists ranks and normalises them, and:
- checks them against the stored lists (recommendations.course_recommendations) for a sample of
  learners (same courses, ranks, reasons, scores to 1e-12);
- times one lookup at a time, on read and from the stored lists;
- times 20 concurrent readers for a few seconds, without pause and pausing 5 ms between lookups.

It adds an index on learner_id (course_id for the neighbours) to each part while it runs (the
stored lists have their primary key), and drops them at the end; the next build would drop them
anyway.

Usage, after a build (`lp run`, or `lp bench`'s database) in the selected database:
    .venv/bin/python benchmarks/reco_on_read.py [--sample 2000] [--readers 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import random
import time

from lpdata import bench, db

ON_READ = """
with
mine as (
    select course_id, weight, last_viewed_at
    from intermediate.int_reco_interactions
    where learner_id = %(learner)s and run_key = 'live'
),
excluded as (
    select course_id from intermediate.int_reco_exclusions where learner_id = %(learner)s and run_key = 'live'
),
recent as (
    select 'recent_activity' as module, s.similar_course_id as course_id, sum(m.weight * s.similarity) as raw_score,
           cast(null as bigint) as reason_course_id
    from mine as m
    inner join intermediate.int_reco_course_similarities as s on s.course_id = m.course_id and s.run_key = 'live'
    group by s.similar_course_id
),
anchor as (
    select course_id from mine where last_viewed_at is not null order by last_viewed_at desc, course_id limit 1
),
viewed as (
    select 'because_you_viewed' as module, s.similar_course_id as course_id, s.similarity as raw_score,
           a.course_id as reason_course_id
    from anchor as a
    inner join intermediate.int_reco_course_similarities as s on s.course_id = a.course_id and s.run_key = 'live'
),
candidates as (
    select * from recent
    union all
    select * from viewed
),
eligible as (
    select c.module, c.course_id, round(c.raw_score * 1e10) / 1e10 as raw_score, c.reason_course_id
    from candidates as c
    inner join intermediate.int_reco_catalogue as cat on cat.course_id = c.course_id and cat.run_key = 'live'
    where cat.is_recommendable and c.raw_score > 0 and c.course_id not in (select course_id from excluded)
),
ranked as (
    select *, row_number() over (partition by module order by raw_score desc, course_id) as rank from eligible
)
select module, cast(rank as integer) as rank, course_id, raw_score / max(raw_score) over (partition by module) as score,
       reason_course_id
from ranked
where rank <= 10
order by module, rank
"""

STORED = """
select module, rank, course_id, score, reason_course_id
from recommendations.course_recommendations
where learner_id = %(learner)s and module in ('recent_activity', 'because_you_viewed')
order by module, rank
"""

INDEXES = {
    "bench_on_read_interactions": "intermediate.int_reco_interactions (learner_id, run_key)",
    "bench_on_read_similarities": "intermediate.int_reco_course_similarities (course_id, run_key)",
    "bench_on_read_exclusions": "intermediate.int_reco_exclusions (learner_id, run_key)",
}


def same(on_read: list[tuple], stored: list[tuple]) -> bool:
    return len(on_read) == len(stored) and all(
        a[:3] == b[:3] and a[4] == b[4] and abs(a[3] - b[3]) < 1e-12 for a, b in zip(on_read, stored)
    )


def concurrent(env: dict[str, str], sql: str, learners: list[int], readers: int, seconds: float, pause_ms: float) -> str:
    ms, _ = bench.timed_lookups(
        lambda: db.connect(env, autocommit=True),
        lambda conn, learner: len(conn.execute(sql, {"learner": learner}).fetchall()),
        learners, readers=readers, seconds=seconds, pause_ms=pause_ms,
    )
    return (
        f"{len(ms) / seconds:,.0f} lookups/s, p50 {bench.percentile(ms, 0.50):.2f} ms, "
        f"p99 {bench.percentile(ms, 0.99):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=2000, help="learners checked and timed one at a time")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="of each concurrent run")
    args = parser.parse_args()
    env = db.pg_env()
    with db.connect(env, autocommit=True) as conn:
        for name, target in INDEXES.items():
            conn.execute(f"create index if not exists {name} on {target}")
        try:
            for relation in (
                "intermediate.int_reco_interactions", "intermediate.int_reco_course_similarities",
                "intermediate.int_reco_exclusions", "recommendations.course_recommendations_v1",
            ):
                conn.execute(f"analyze {relation}")
                rows, size = conn.execute(
                    f"select count(*), pg_size_pretty(pg_total_relation_size('{relation}')) from {relation}"
                ).fetchone()
                print(f"{relation}: {rows:,} rows, {size}")
            learners = [
                r[0] for r in conn.execute("select distinct learner_id from recommendations.course_recommendations")
            ]
            sample = random.Random(1).sample(learners, min(args.sample, len(learners)))
            equal = sum(
                same(conn.execute(ON_READ, {"learner": learner}).fetchall(), conn.execute(STORED, {"learner": learner}).fetchall())
                for learner in sample
            )
            print(f"lists on read equal to the stored lists: {equal} of {len(sample)} learners")
            for name, sql in (("on read", ON_READ), ("stored", STORED)):
                ms = []
                for learner in sample:
                    began = time.perf_counter()
                    conn.execute(sql, {"learner": learner}).fetchall()
                    ms.append(1000 * (time.perf_counter() - began))
                print(f"{name}, one reader: p50 {bench.percentile(ms, 0.50):.2f} ms, p99 {bench.percentile(ms, 0.99):.2f} ms")
                for pause_ms in (0.0, 5.0):
                    figures = concurrent(env, sql, learners, args.readers, args.seconds, pause_ms)
                    print(f"{name}, {args.readers} readers, pausing {pause_ms:.0f} ms: {figures}")
        finally:
            for name in INDEXES:
                conn.execute(f"drop index if exists intermediate.{name}")


if __name__ == "__main__":
    main()
