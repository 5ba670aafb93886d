{#
    The declared list quarantined_rows is generated from: one entry per base model, with the raw table
    it reads, the columns of a row's key there (record_key: their values joined by ':'), and whether
    the row concerns a learner (learner_id).
    Adding a source = its base model + one entry here; the base model's reconciliation test
    (source_reconciles) fails while the entry is missing.
#}
{% macro quarantined_sources() -%}
    {%- set entries = [
        ('raw.learners', 'base_platform__learners', ['learner_id'], true),
        ('raw.courses', 'base_platform__courses', ['course_id'], false),
        ('raw.course_items', 'base_platform__course_items', ['item_id'], false),
        ('raw.course_skills', 'base_platform__course_skills', ['course_id', 'skill_id'], false),
        ('raw.enrollments', 'base_platform__enrollments', ['enrollment_id'], true),
        ('raw.events', 'base_player__events', ['event_id', 'delivery_number'], true),
        ('raw.assessment_submissions', 'base_assessment__submissions', ['submission_id'], true),
        ('raw.experiments', 'base_allocation__experiments', ['experiment_key'], false),
        ('raw.experiment_variants', 'base_allocation__experiment_variants', ['experiment_key', 'variant_key'], false),
        (
            'raw.experiment_assignments', 'base_allocation__experiment_assignments',
            ['experiment_key', 'variant_key', 'learner_id'], true,
        ),
        ('raw.coaching_messages', 'base_coach__messages', ['message_id'], true),
        ('raw.coaching_interactions', 'base_coach__interactions', ['message_id', 'interaction', 'occurred_at'], false),
        ('raw.learner_goals', 'base_coach__learner_goals', ['goal_id'], true),
        ('raw.recommendation_impressions', 'base_recommender__impressions', ['impression_id'], true),
        (
            'raw.model_scores', 'base_recommender__model_scores',
            ['model_name', 'batch_id', 'learner_id', 'course_id'], true,
        ),
    ] -%}
    {%- set sources = [] -%}
    {%- for source_table, model, key, has_learner in entries -%}
        {%- do sources.append({
            'source_table': source_table,
            'model': model,
            'record_key': 'cast(' ~ key | join(" as text) || ':' || cast(") ~ ' as text)',
            'learner_id': 'learner_id' if has_learner else none,
        }) -%}
    {%- endfor -%}
    {{ return(sources) }}
{%- endmacro %}
