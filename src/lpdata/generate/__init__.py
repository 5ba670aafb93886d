"""Synthetic raw data for the learning platform's warehouse (the contract: docs/synthetic_data.md).

Public API: :func:`generate`, :func:`append_days`, :data:`TRUTHS`, :func:`course_clusters`.
"""

from .core import generate
from .truths import TRUTHS, effect
from .world import course_clusters


def append_days(env, days: int = 1, seed: int = 42, progress: bool = True) -> dict[str, int]:
    """Append ``days`` more days of activity after max(raw.events.received_at); see :mod:`.append`."""
    from .append import append_days as _append_days

    return _append_days(env, days=days, seed=seed, progress=progress)


__all__ = ["TRUTHS", "append_days", "course_clusters", "effect", "generate"]
