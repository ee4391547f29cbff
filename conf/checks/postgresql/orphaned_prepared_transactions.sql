-- Prepared transactions (two-phase commit) left waiting for COMMIT PREPARED or
-- ROLLBACK PREPARED: they keep their locks and hold back VACUUM, even across
-- restarts, until someone resolves them.
-- Threshold: pghealthd.orphaned_prepared_transactions.min_age (interval, default 5 minutes).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.orphaned_prepared_transactions.min_age', true), ''),
                    '5 minutes')::interval AS min_age
)
SELECT p.gid, p.owner, p.database, p.prepared, now() - p.prepared AS age,
       age(p.transaction) AS xid_age
FROM pg_prepared_xacts AS p, conf
WHERE now() - p.prepared > conf.min_age
ORDER BY p.prepared
