"""The coaching holdout: a deterministic global control group of learners who never get a coaching
message, computed exactly as the warehouse computes it (macro ``coaching_holdout_bucket``).

A learner's bucket is the first 8 hex digits of md5(salt || learner_id) read as an integer, modulo
10,000; the learner is in the holdout when the bucket is below share x 10,000. md5 is the hash every
database and Python compute byte for byte, so the generator plants exactly the group the marts
exclude (var ``coaching_holdout_share`` / ``coaching_holdout_salt`` in dbt_project.yml, equal to
:data:`truths.HOLDOUT_SHARE` / :data:`truths.HOLDOUT_SALT`).
"""

from __future__ import annotations

import hashlib

import numpy as np

from . import truths as T

BUCKETS = 10_000
HEX_DIGITS = 8


def holdout_bucket(learner_id: int, salt: str = T.HOLDOUT_SALT) -> int:
    """The learner's bucket in 0..9999: int(md5(salt || learner_id)[:8], 16) mod 10,000."""
    digest = hashlib.md5(f"{salt}{int(learner_id)}".encode()).hexdigest()
    return int(digest[:HEX_DIGITS], 16) % BUCKETS


def holdout_threshold(share: float = T.HOLDOUT_SHARE) -> int:
    """Buckets below this number are in the holdout."""
    if not 0 <= share < 1:
        raise ValueError(f"coaching holdout share must be in [0, 1), got {share}")
    return round(share * BUCKETS)


def in_holdout(learner_id: int, share: float = T.HOLDOUT_SHARE, salt: str = T.HOLDOUT_SALT) -> bool:
    """True when the learner is in the coaching holdout (never gets a coaching message)."""
    return holdout_bucket(learner_id, salt) < holdout_threshold(share)


def holdout_mask(learner_ids, share: float = T.HOLDOUT_SHARE, salt: str = T.HOLDOUT_SALT) -> np.ndarray:
    """in_holdout for an array of learner ids."""
    threshold = holdout_threshold(share)
    return np.fromiter((holdout_bucket(i, salt) < threshold for i in learner_ids), dtype=bool, count=len(learner_ids))
