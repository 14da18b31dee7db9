-- dmilab schema v6: the tags of an experiment (the spec's `tags`, read from its resolved spec when it is submitted),
-- one row per tag, for the list filter GET /api/v1/experiments?tag=T.
CREATE TABLE experiment_tags (
    tag           TEXT NOT NULL,
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, experiment_id)
) WITHOUT ROWID;
CREATE INDEX experiment_tags_experiment ON experiment_tags (experiment_id);
