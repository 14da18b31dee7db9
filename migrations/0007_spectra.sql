-- dmilab schema v7: the spectral readout of each kernel arm (the spec's `spectrum`, docs/spectrum.md), one row per arm,
-- written once under the lease like a point (a resumed run skips a stored one). The arrays are the N values in mode
-- order (eigenvalues descending) as little-endian IEEE 754 doubles; `predicted` is JSON text
-- [{"n_train", "test_mse", "train_mse", "delta", "kappa", "learned", "e0"}] (NaN as null), read by the results'
-- curves without the arrays.
CREATE TABLE spectra (
    experiment_id       TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    arm_index           INTEGER NOT NULL,           -- position of the arm in the spec grid (data, model, inference)
    arm                 TEXT NOT NULL,
    data                TEXT NOT NULL,
    model               TEXT NOT NULL,
    inference           TEXT NOT NULL,
    n                   INTEGER NOT NULL,           -- N, the training points of the Gram
    outputs             INTEGER NOT NULL,           -- k, the targets' outputs
    ridge               REAL,
    label_noise         REAL,
    trace               REAL,
    target_power        REAL,
    alignment           REAL,
    effective_dimension REAL,
    seconds             REAL,
    predicted           TEXT NOT NULL,
    eigenvalue          BLOB NOT NULL,              -- N doubles: mu_i / N, descending
    power               BLOB,                       -- N doubles: the target's power per eigenvector (NULL when k = 0)
    cumulative          BLOB,                       -- N doubles: its cumulative sum
    PRIMARY KEY (experiment_id, arm)
);
