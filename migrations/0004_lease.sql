-- dmilab schema v4: an owner for running work. A process (a `dmilab serve`, later a `dmilab worker`) that claims an
-- experiment takes a lease on it: its owner id and the time the lease lapses unless renewed. The owner renews it
-- while it works (and with every point it reports); start-up and a periodic sweep re-queue only running work whose
-- lease lapsed or whose owner is a process of this machine that no longer runs. Times are Unix milliseconds.
ALTER TABLE experiments ADD COLUMN lease_owner TEXT;          -- NULL unless running
ALTER TABLE experiments ADD COLUMN lease_expires_ms INTEGER;  -- the lease lapses at this time unless renewed
ALTER TABLE experiments ADD COLUMN heartbeat_ms INTEGER;      -- the last claim or renewal
CREATE INDEX experiments_lease ON experiments (status, lease_expires_ms);
