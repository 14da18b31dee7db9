-- dmilab schema v8: shards, the units of work that run independently (issue 16). A running experiment is split into
-- shards when it is first claimed: one per kernel unit (data variant, model, repeat: one NNGP+NTK computation serves
-- every kernel method and size) and one per trained point (arm, n_train, repeat). A worker (a thread of the server,
-- or `dmilab worker` on another machine) claims one shard with a lease, renews it while computing, and reports its
-- points; a shard whose lease lapses goes back to the queue (expiries counts how often). Times are Unix milliseconds.
CREATE TABLE shards (
    experiment_id    TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    idx              INTEGER NOT NULL,                -- position in the experiment's shard list
    kind             TEXT NOT NULL,                   -- 'kernel' or 'train' (kernel tiles, audits: further kinds)
    unit             TEXT NOT NULL,                   -- JSON: {"data", "model", "repeat"} and for 'train' "inference", "n_train"
    points           INTEGER NOT NULL,                -- the number of points it reports
    status           TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    owner            TEXT,                            -- the worker holding its lease; NULL unless running
    lease_expires_ms INTEGER,
    claims           INTEGER NOT NULL DEFAULT 0,      -- how often it was claimed (1 + reruns)
    expiries         INTEGER NOT NULL DEFAULT 0,      -- how often its lease lapsed (worker killed, machine gone)
    slurm_job        TEXT,                            -- the Slurm job ("1234_5") of the worker that last claimed it
    PRIMARY KEY (experiment_id, idx)
) WITHOUT ROWID;
CREATE INDEX shards_status ON shards (status, experiment_id);

-- The workers that claimed or renewed a shard lately (for /metrics and the dashboard).
CREATE TABLE workers (
    owner        TEXT PRIMARY KEY,
    threads      INTEGER,
    slurm_job    TEXT,
    last_seen_ms INTEGER NOT NULL,
    shards_done  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
