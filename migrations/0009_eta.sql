-- dmilab schema v8: the estimated seconds left of a running experiment's kernel tiles (issue 15), from the rate
-- measured on the tiles it computed; NULL when no rate is measured (no tile computed yet, or not in a kernel).
ALTER TABLE experiments ADD COLUMN eta_seconds REAL;
