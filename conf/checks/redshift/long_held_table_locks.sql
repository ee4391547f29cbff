-- Table locks held by transactions open for a long time (STV_LOCKS rows whose
-- lock_status is 'Holding ...': STV_LOCKS also lists the lock requests that
-- wait, which are not reported).  Other writers to these tables queue
-- behind them.  STV_LOCKS does not say when a lock was taken:
-- lock_owner_start_ts is the start of the holding transaction (the lock was
-- taken then or later) and last_update the table's last write.
-- Per database (scope = database): the holding transaction's database
-- (SVV_TRANSACTIONS); the table's name comes from that database's pg_class.
-- Threshold: the holding transaction started 30 minutes ago or more.
-- AWS: STV_LOCKS; SVV_TRANSACTIONS; GETDATE; CONVERT_TIMEZONE.
SELECT l.table_id, trim(c.relname) AS table_name, trim(l.lock_status) AS lock_status,
       l.lock_owner AS xid, l.lock_owner_pid AS pid, trim(t.txn_owner) AS txn_owner,
       l.lock_owner_start_ts AS holder_txn_start,
       round(extract(epoch FROM convert_timezone(current_setting('timezone'), 'UTC', getdate()))
             - extract(epoch FROM l.lock_owner_start_ts)) AS holder_txn_seconds,
       l.last_update AS table_last_update
FROM stv_locks AS l
JOIN svv_transactions AS t
  ON t.xid = l.lock_owner AND t.pid = l.lock_owner_pid
 AND t.lockable_object_type = 'transactionid'
LEFT JOIN pg_class AS c ON c.oid = l.table_id
WHERE trim(l.lock_status) LIKE 'Holding%'
  AND trim(t.txn_db) = current_database()
  AND l.lock_owner_start_ts < convert_timezone(current_setting('timezone'), 'UTC', getdate())
                              - interval '30 minutes'
ORDER BY l.lock_owner_start_ts, l.table_id
