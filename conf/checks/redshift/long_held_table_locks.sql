-- Table write locks held for longer than a threshold (STV_LOCKS): other
-- writers to these tables queue behind them.
-- Threshold: the lock owner's transaction started 30 minutes ago or more.
SELECT l.table_id, trim(c.relname) AS table_name, l.lock_owner AS xid, l.lock_owner_pid AS pid,
       l.lock_owner_start_ts, trim(l.lock_status) AS lock_status, l.last_update
FROM stv_locks AS l
LEFT JOIN pg_class AS c ON c.oid = l.table_id
WHERE l.lock_owner_start_ts < getdate() - interval '30 minutes'
ORDER BY l.lock_owner_start_ts
