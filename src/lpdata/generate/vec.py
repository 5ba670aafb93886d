"""Small numpy helpers for ragged (grouped) arrays."""

from __future__ import annotations

import numpy as np


def seg_arange(counts: np.ndarray) -> np.ndarray:
    """For groups of the given sizes, 0..size-1 per group, concatenated."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


def group_starts(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def uniform_int64(rng: np.random.Generator, lo, hi, size=None) -> np.ndarray:
    """Uniform int64 in [lo, hi) elementwise (hi > lo assumed; equal bounds give lo)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    span = np.maximum(hi - lo, 0)
    shape = size if size is not None else np.broadcast(lo, hi).shape
    return lo + (rng.random(shape) * span).astype(np.int64)


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n deterministic version-4 UUIDs as an (n, 16) uint8 array."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    return b


def weighted_top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Per row, k column indices sampled without replacement proportionally to weights (Efraimidis-Spirakis)."""
    keys = np.log(rng.random(weights.shape)) / np.maximum(weights, 1e-300)
    k = min(k, weights.shape[1])
    part = np.argpartition(-keys, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(keys, part, axis=1), axis=1)
    return np.take_along_axis(part, order, axis=1)


def bisect_mean_min(x: np.ndarray, target: float) -> float:
    """c such that mean(min(x, c)) == target (x >= 0); max(x) if unreachable."""
    if len(x) == 0:
        return 0.0
    lo, hi = 0.0, float(x.max())
    if np.minimum(x, hi).mean() <= target:
        return hi
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.minimum(x, mid).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
