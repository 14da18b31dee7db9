-- dmilab schema v10: the symmetry audit (DESIGN 2.2): one row per arm and group, stored as soon as it is measured
-- (a resumed run measures only the missing cells). seed_gap is NULL except for distributional measurements.
CREATE TABLE audit (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    arm_index     INTEGER NOT NULL,                 -- position of the arm in the spec grid
    arm           TEXT NOT NULL,
    grp           TEXT NOT NULL,                    -- the transform kind ("translation")
    method        TEXT NOT NULL,                    -- exact, coupled or distributional
    n_train       INTEGER NOT NULL,
    gap           REAL,
    seed_gap      REAL,
    threshold     REAL,
    invariant     INTEGER NOT NULL,
    seconds       REAL,
    PRIMARY KEY (experiment_id, arm, grp)
);
