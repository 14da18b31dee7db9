-- dmilab schema v1: experiments (the queue lives here) and their points.
-- Timestamps are RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.000Z"), so they sort as text.

CREATE TABLE experiments (
    id               TEXT PRIMARY KEY,               -- 'exp_' + 16 hex characters
    name             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress         REAL NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    error            TEXT,                           -- message of the failure, NULL otherwise
    spec             TEXT NOT NULL,                  -- the JSON text as submitted
    resolved_spec    TEXT NOT NULL,                  -- JSON with every default filled in
    version          TEXT NOT NULL,                  -- 'dmilab <version> (<commit>)' that accepted it
    cancel_requested INTEGER NOT NULL DEFAULT 0      -- read by the worker between units of work
);

CREATE INDEX experiments_created ON experiments (created_at, id);
CREATE INDEX experiments_status_created ON experiments (status, created_at, id);

CREATE TABLE points (
    seq           INTEGER PRIMARY KEY,              -- insertion order, stable
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    arm_index     INTEGER NOT NULL,                 -- position of the arm in the spec grid (data, model, inference)
    arm           TEXT NOT NULL,
    data          TEXT NOT NULL,
    model         TEXT NOT NULL,
    inference     TEXT NOT NULL,
    n_train       INTEGER NOT NULL,
    repeat        INTEGER NOT NULL,
    test_mse      REAL,
    test_accuracy REAL,                             -- NULL for regression (no accuracy)
    train_mse     REAL,
    seconds       REAL,
    UNIQUE (experiment_id, arm, n_train, repeat)
);
