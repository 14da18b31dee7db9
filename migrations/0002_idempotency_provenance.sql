-- dmilab schema v2: Idempotency-Key of POST /api/v1/experiments, and the provenance of each run.

-- One row per Idempotency-Key: the SHA-256 of the request body it was first sent with and the experiment it
-- created. A retry with the same key and body gets that experiment (200); another body is 409 conflict.
-- Deleting the experiment deletes its key (a later POST with the key creates a new experiment).
CREATE TABLE idempotency_keys (
    key           TEXT PRIMARY KEY,
    body_sha256   TEXT NOT NULL,                   -- lower-case hex
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL
);
CREATE INDEX idempotency_keys_experiment ON idempotency_keys (experiment_id);

-- Where and how the experiment ran (threads, workers, BLAS, SIMD, SHA-256 of the data files read), as JSON;
-- written each time a worker starts (or resumes) it. NULL until it first runs.
ALTER TABLE experiments ADD COLUMN provenance TEXT;
