{#
    The declared list quarantined_rows is generated from: one entry per base model, with the raw table
    it reads, the row's key there as text, and the column of the learner the row concerns (none when
    it concerns no learner). Adding a source = its base model + one entry here; the base model's
    reconciliation test (source_reconciles) fails while the entry is missing.
#}
{% macro quarantined_sources() -%}
    {{ return([
        {'source_table': 'raw.learners', 'model': 'base_platform__learners',
         'record_key': 'cast(learner_id as text)', 'learner_id': 'learner_id'},
        {'source_table': 'raw.courses', 'model': 'base_platform__courses',
         'record_key': 'cast(course_id as text)', 'learner_id': none},
        {'source_table': 'raw.course_items', 'model': 'base_platform__course_items',
         'record_key': 'cast(item_id as text)', 'learner_id': none},
        {'source_table': 'raw.course_skills', 'model': 'base_platform__course_skills',
         'record_key': "course_id || ':' || skill_id", 'learner_id': none},
        {'source_table': 'raw.enrollments', 'model': 'base_platform__enrollments',
         'record_key': 'cast(enrollment_id as text)', 'learner_id': 'learner_id'},
        {'source_table': 'raw.events', 'model': 'base_player__events',
         'record_key': "event_id || '#' || delivery_number", 'learner_id': 'learner_id'},
        {'source_table': 'raw.assessment_submissions', 'model': 'base_assessment__submissions',
         'record_key': 'cast(submission_id as text)', 'learner_id': 'learner_id'},
        {'source_table': 'raw.experiments', 'model': 'base_allocation__experiments',
         'record_key': 'experiment_key', 'learner_id': none},
        {'source_table': 'raw.experiment_variants', 'model': 'base_allocation__experiment_variants',
         'record_key': "experiment_key || ':' || variant_key", 'learner_id': none},
        {'source_table': 'raw.experiment_assignments', 'model': 'base_allocation__experiment_assignments',
         'record_key': "experiment_key || ':' || variant_key || ':' || learner_id", 'learner_id': 'learner_id'},
        {'source_table': 'raw.coaching_messages', 'model': 'base_coach__messages',
         'record_key': 'cast(message_id as text)', 'learner_id': 'learner_id'},
        {'source_table': 'raw.coaching_interactions', 'model': 'base_coach__interactions',
         'record_key': "message_id || ':' || interaction || ':' || occurred_at", 'learner_id': none},
        {'source_table': 'raw.learner_goals', 'model': 'base_coach__learner_goals',
         'record_key': 'cast(goal_id as text)', 'learner_id': 'learner_id'},
        {'source_table': 'raw.recommendation_impressions', 'model': 'base_recommender__impressions',
         'record_key': 'cast(impression_id as text)', 'learner_id': 'learner_id'},
        {'source_table': 'raw.model_scores', 'model': 'base_recommender__model_scores',
         'record_key': "model_name || ':' || batch_id || ':' || learner_id || ':' || course_id",
         'learner_id': 'learner_id'},
    ]) }}
{%- endmacro %}
