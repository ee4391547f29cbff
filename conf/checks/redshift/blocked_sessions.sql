-- Sessions waiting for a table lock, one row per (waiter, holder), from
-- SVV_TRANSACTIONS, with the statement the holder is running (STV_RECENTS).
-- Threshold: the waiting transaction started 5 minutes ago or more.
SELECT w.pid AS waiting_pid, trim(w.txn_owner) AS waiting_user, w.txn_start AS waiting_since,
       trim(w.lock_mode) AS wanted_lock, w.relation AS table_id,
       trim(c.relname) AS table_name,
       h.pid AS holder_pid, trim(h.txn_owner) AS holder_user, h.txn_start AS holder_since,
       trim(h.lock_mode) AS held_lock, trim(r.query) AS holder_query
FROM svv_transactions AS w
JOIN svv_transactions AS h ON h.relation = w.relation AND h.granted AND h.pid <> w.pid
LEFT JOIN pg_class AS c ON c.oid = w.relation
LEFT JOIN stv_recents AS r ON r.pid = h.pid AND r.status = 'Running'
WHERE NOT w.granted
  AND w.lockable_object_type = 'relation'
  AND w.txn_start < getdate() - interval '5 minutes'
ORDER BY w.txn_start, w.pid, h.pid
