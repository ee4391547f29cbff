-- The replication heartbeat's writer (off by default; see README,
-- "Replication heartbeat"): on the primary, as a role of its own, the time
-- of this run into pghealthd.heartbeat.  The one check that writes: it has
-- commit = true, so its transaction is committed.  It returns no rows.
WITH w AS (
    INSERT INTO pghealthd.heartbeat (id, ts) VALUES (1, now())
    ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts
    RETURNING ts
)
SELECT w.ts FROM w WHERE false
