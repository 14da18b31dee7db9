-- dmilab schema v11: kernel tiles and audit arms as shards of their own (issue 16). A large kernel unit is split into
-- 'tile' shards (a range of its tiles each) and one 'solve' shard that may be claimed only when the shards
-- [after_from, after_to) are all done (its tiles). Every tile a worker reports is recorded once, with the shard and
-- the claim it came from, so that a rerun skips what is stored and a tile stored twice is counted (tiles_again).
-- `kernel` keeps the kernel cache record a shard's worker reported (provenance.kernels).
ALTER TABLE shards ADD COLUMN after_from INTEGER;           -- NULL: no dependency
ALTER TABLE shards ADD COLUMN after_to INTEGER;
ALTER TABLE shards ADD COLUMN tiles_again INTEGER NOT NULL DEFAULT 0;   -- tile reports of tiles already stored
ALTER TABLE shards ADD COLUMN kernel TEXT;                  -- JSON {"data", "model", "repeat", "key", "kernel_cache", ...}
ALTER TABLE shards ADD COLUMN weight REAL;                  -- its share of the experiment's progress; NULL: its points

CREATE TABLE shard_tiles (
    experiment_id TEXT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    key           TEXT NOT NULL,                -- the kernel's content key (dml_tile_key): its directory in --tile-dir
    tile          INTEGER NOT NULL,             -- the tile's number in dml_tiling order (Gram tiles first)
    idx           INTEGER NOT NULL,             -- the tile shard that reported it
    claim         INTEGER NOT NULL,             -- and the claim of that shard (1: first, 2: its rerun, ...)
    sha256_nngp   TEXT NOT NULL,
    sha256_ntk    TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key, tile)
) WITHOUT ROWID;
CREATE INDEX shard_tiles_shard ON shard_tiles (experiment_id, idx);
