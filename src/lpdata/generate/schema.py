"""DDL of schema ``raw``: exactly the tables and types of ../shared/spec/sources.md."""

from __future__ import annotations

TABLES: dict[str, str] = {
    "learners": """
        learner_id bigint, email text, full_name text, country_code char(2), occupation text,
        signed_up_at timestamptz, updated_at timestamptz, is_deleted boolean""",
    "courses": """
        course_id bigint, slug text, title text, domain text, difficulty text,
        launched_at timestamptz, retired_at timestamptz""",
    "course_items": """
        item_id bigint, course_id bigint, module_index integer, item_index integer, item_type text,
        is_graded boolean, estimated_minutes integer""",
    "course_skills": "course_id bigint, skill_id integer, weight numeric",
    "enrollments": """
        enrollment_id bigint, learner_id bigint, course_id bigint, enrolled_at timestamptz,
        unenrolled_at timestamptz, source text""",
    "events": """
        event_id uuid, learner_id bigint, event_type text, course_id bigint, item_id bigint,
        occurred_at timestamptz, received_at timestamptz, properties jsonb""",
    "assessment_submissions": """
        submission_id bigint, learner_id bigint, item_id bigint, attempt_number integer, score numeric,
        submitted_at timestamptz""",
    "experiments": "experiment_key text, description text, owner text, started_at timestamptz, ended_at timestamptz",
    "experiment_variants": "experiment_key text, variant_key text, is_control boolean, planned_weight numeric",
    "experiment_assignments": "experiment_key text, variant_key text, learner_id bigint, assigned_at timestamptz",
    "coaching_messages": """
        message_id bigint, learner_id bigint, course_id bigint, message_key text, channel text,
        sent_at timestamptz""",
    "coaching_interactions": "message_id bigint, interaction text, occurred_at timestamptz",
    "learner_goals": """
        goal_id bigint, learner_id bigint, course_id bigint, goal_type text, goal_text text,
        target_date date, created_at timestamptz, withdrawn_at timestamptz""",
    "recommendation_impressions": """
        impression_id bigint, learner_id bigint, module text, course_id bigint, position integer,
        shown_at timestamptz, clicked_at timestamptz""",
    "model_scores": """
        model_name text, model_version text, batch_id text, learner_id bigint, course_id bigint,
        score double precision, scored_at timestamptz""",
}

# What the platform's loader maintains on the landing tables.
INDEXES = (
    "create index events_received_at_idx on raw.events (received_at)",
    "create index events_event_id_idx on raw.events (event_id)",
)

# The order in which generate() writes and reports the tables.
ORDER = tuple(TABLES)


def create_statements() -> list[str]:
    stmts = ["drop schema if exists raw cascade", "create schema raw"]
    for name, cols in TABLES.items():
        stmts.append(f"create table raw.{name} ({' '.join(cols.split())})")
    return stmts
