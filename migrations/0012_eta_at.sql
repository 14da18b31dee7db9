-- dmilab schema v12: when eta_seconds was estimated (Unix seconds, SQLite's clock), so that a read counts it down:
-- an experiment's ETA no longer stands still between estimates (during the solve of a kernel split into tile
-- shards the last one came with the last tile).
ALTER TABLE experiments ADD COLUMN eta_at REAL;
