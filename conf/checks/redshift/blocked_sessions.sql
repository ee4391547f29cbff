-- Sessions waiting for a table lock, one row per (waiter, holder), with the
-- statement each is running.  A holder is a session granted a lock on the
-- same table that conflicts with the one waited for (Redshift's table locks:
-- AccessShareLock conflicts only with AccessExclusiveLock,
-- ShareRowExclusiveLock with itself and AccessExclusiveLock,
-- AccessExclusiveLock with every lock; other pairs count as conflicting).
-- The wait is timed from the start of the waiting statement (STV_RECENTS),
-- as amazon-redshift-utils' AdminViews v_get_blocking_locks does, not from
-- the waiting transaction's start.
-- Per database (scope = database): the waiting transaction's database; the
-- table's name comes from that database's pg_class.
-- Threshold: waiting 5 minutes or more.
-- AWS: SVV_TRANSACTIONS; STV_RECENTS; Managing concurrent write operations
-- (lock modes); GETDATE; CONVERT_TIMEZONE (times in UTC, getdate() in the
-- session's time zone).
SELECT w.pid AS waiting_pid, trim(w.txn_owner) AS waiting_user,
       rw.starttime AS waiting_since,
       round(extract(epoch FROM convert_timezone(current_setting('timezone'), 'UTC', getdate()))
             - extract(epoch FROM rw.starttime)) AS wait_seconds,
       trim(w.lock_mode) AS wanted_lock, w.relation AS table_id, trim(c.relname) AS table_name,
       trim(rw.query) AS waiting_query,
       h.pid AS holder_pid, trim(h.txn_owner) AS holder_user, trim(h.lock_mode) AS held_lock,
       h.txn_start AS holder_txn_start, trim(rh.query) AS holder_query
FROM svv_transactions AS w
JOIN stv_recents AS rw ON rw.pid = w.pid AND rw.status = 'Running'
JOIN svv_transactions AS h
  ON h.relation = w.relation AND h.lockable_object_type = 'relation' AND h.granted
 AND h.pid <> w.pid
 AND NOT ((trim(w.lock_mode) = 'AccessShareLock' AND trim(h.lock_mode) <> 'AccessExclusiveLock')
          OR (trim(h.lock_mode) = 'AccessShareLock' AND trim(w.lock_mode) <> 'AccessExclusiveLock'))
LEFT JOIN stv_recents AS rh ON rh.pid = h.pid AND rh.status = 'Running'
LEFT JOIN pg_class AS c ON c.oid = w.relation
WHERE NOT w.granted
  AND w.lockable_object_type = 'relation'
  AND trim(w.txn_db) = current_database()
  AND rw.starttime < convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '5 minutes'
ORDER BY rw.starttime, w.pid, h.pid
