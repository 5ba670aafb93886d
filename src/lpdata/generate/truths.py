"""The truths the generator plants, exported so tests read them instead of repeating numbers.

Keep in step with docs/synthetic_data.md ("Planted truths").
"""

from __future__ import annotations

from types import MappingProxyType

WINDOW_DAYS = 14  # experiment metric window and pre-window, days from the first assignment
PASS_SCORE = 0.8  # a graded submission passes at score >= 0.8

EXPERIMENTS = {
    "onboarding_checklist": {
        "description": "Show a getting-started checklist on the course home page.",
        "owner": "growth-team",
        "variants": {"control": 0.5, "checklist": 0.5},
    },
    "reco_carousel": {
        "description": "Recommendation carousel on the dashboard instead of the static course list.",
        "owner": "recommendations-team",
        "variants": {"control": 0.5, "carousel": 0.5},
    },
    "hint_styles": {
        "description": "Two styles of hints on graded quiz questions.",
        "owner": "assessment-team",
        "variants": {"control": 0.34, "hint_a": 0.33, "hint_b": 0.33},
    },
    "pricing_banner": {
        "description": "Banner announcing the annual subscription discount.",
        "owner": "monetisation-team",
        "variants": {"control": 0.5, "banner": 0.5},
    },
}

# (experiment, variant, metric) -> (effect, "relative" | "absolute"). Absent triples have no effect.
EFFECTS = {
    ("onboarding_checklist", "checklist", "items_completed"): (0.20, "relative"),
    ("onboarding_checklist", "checklist", "active_learner"): (0.08, "absolute"),
    ("reco_carousel", "carousel", "enrollments"): (0.15, "absolute"),
    ("reco_carousel", "carousel", "quiz_pass_rate"): (0.0, "absolute"),
    ("hint_styles", "hint_a", "quiz_pass_rate"): (0.10, "absolute"),
    ("hint_styles", "hint_b", "quiz_pass_rate"): (0.0, "absolute"),
    ("hint_styles", "hint_b", "items_completed"): (0.0, "relative"),
    ("pricing_banner", "banner", "items_completed"): (0.0, "relative"),
    ("pricing_banner", "banner", "enrollments"): (0.0, "absolute"),
}

# What the allocation engine actually logged (differs from the plan only for the SRM experiment).
ACTUAL_WEIGHTS = {key: dict(spec["variants"]) for key, spec in EXPERIMENTS.items()}
ACTUAL_WEIGHTS["pricing_banner"] = {"control": 0.6, "banner": 0.4}

HELPFULNESS_BY_TYPE = {"growth_mindset": 0.75, "self_assessment": 0.60, "goal_reminder": 0.50, "nudge": 0.35}
PAUSED_MESSAGE_KEY = "nudge_streak_guilt"
PAUSED_MESSAGE_HELPFULNESS = 0.10
PAUSED_MESSAGE_VOLUME_FACTOR = 3
UNKNOWN_MESSAGE_KEY = "legacy_welcome_v0"

# The coaching holdout (lpdata.generate.coaching; vars coaching_holdout_share and coaching_holdout_salt
# in dbt_project.yml hold the same values): these learners never get a coaching message.
HOLDOUT_SHARE = 0.10
HOLDOUT_SALT = "coaching-holdout-v1"
# One message helps, one does not: in the 7 UTC days after the day a learner receives
# HELPFUL_MESSAGE_KEY, each study day is active with (1 + HELPFUL_MESSAGE_LIFT) times the learner's
# usual probability (items per active day unchanged), so items completed in those 7 days are
# +HELPFUL_MESSAGE_LIFT relative to comparable holdout learners; NO_LIFT_MESSAGE_KEY changes nothing
# (neither does any other message).
HELPFUL_MESSAGE_KEY = "growth_first_week"
HELPFUL_MESSAGE_LIFT = 0.60
NO_LIFT_MESSAGE_KEY = "nudge_pick_up"
LIFT_WINDOW_DAYS = 7

CTR_BY_MODULE = {"because_you_viewed": 0.08, "recent_activity": 0.06, "popular": 0.03, "mf_als": 0.05}

MODEL_BATCHES = {
    # batch_id -> (model_name, model_version, days before the anchor, complete?)
    "mf_als-b1": ("mf_als", "2.3.0", 45, True),
    "mf_als-b2": ("mf_als", "2.3.1", 3, True),
    "mf_als-b3": ("mf_als", "2.3.1", 0, False),
    "two_tower-b1": ("two_tower", "0.9.0", 5, True),
}
LATEST_COMPLETE_BATCH = {"mf_als": "mf_als-b2", "two_tower": "two_tower-b1"}
INCOMPLETE_BATCH_SHARE = 0.30  # mf_als-b3 holds 30% of the learners of mf_als-b2

UNKNOWN_EVENT_TYPES = ("video_buffering", "app_crash", "legacy_ping")
KNOWN_EVENT_TYPES = ("course_view", "item_start", "item_complete", "search", "session_start")

TRUTHS = MappingProxyType(
    {
        "window_days": WINDOW_DAYS,
        "pass_score": PASS_SCORE,
        "experiments": tuple(EXPERIMENTS),
        "variants": {k: tuple(v["variants"]) for k, v in EXPERIMENTS.items()},
        "control_variant": {k: "control" for k in EXPERIMENTS},
        "planned_weights": {k: dict(v["variants"]) for k, v in EXPERIMENTS.items()},
        "actual_weights": ACTUAL_WEIGHTS,
        "effects": EFFECTS,
        "srm_experiment": "pricing_banner",
        "cuped_metric": "items_completed",
        "helpfulness_by_type": HELPFULNESS_BY_TYPE,
        "paused_message_key": PAUSED_MESSAGE_KEY,
        "paused_message_helpfulness": PAUSED_MESSAGE_HELPFULNESS,
        "unknown_message_key": UNKNOWN_MESSAGE_KEY,
        "coaching_holdout_share": HOLDOUT_SHARE,
        "coaching_holdout_salt": HOLDOUT_SALT,
        "helpful_message_key": HELPFUL_MESSAGE_KEY,
        "helpful_message_lift": HELPFUL_MESSAGE_LIFT,
        "no_lift_message_key": NO_LIFT_MESSAGE_KEY,
        "lift_window_days": LIFT_WINDOW_DAYS,
        "ctr_by_module": CTR_BY_MODULE,
        "model_batches": MODEL_BATCHES,
        "latest_complete_batch": LATEST_COMPLETE_BATCH,
        "incomplete_batch": {"mf_als": "mf_als-b3"},
        "unknown_event_types": UNKNOWN_EVENT_TYPES,
        "known_event_types": KNOWN_EVENT_TYPES,
        "cluster_share": 0.80,
        "history_days": 120,
    }
)


def effect(experiment: str, variant: str, metric: str) -> tuple[float, str]:
    """The planted effect of a variant on a metric versus control: (size, kind); (0.0, 'absolute') if none."""
    return EFFECTS.get((experiment, variant, metric), (0.0, "absolute"))
