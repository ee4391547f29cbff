-- Transactions open for longer than a threshold (SVV_TRANSACTIONS: every open
-- transaction holds an ExclusiveLock on its own transaction ID).  They hold
-- their locks and keep VACUUM from reclaiming deleted rows.
-- Threshold: 1 hour.
-- AWS: SVV_TRANSACTIONS; GETDATE; CONVERT_TIMEZONE.
SELECT t.pid, t.xid, trim(t.txn_owner) AS txn_owner, trim(t.txn_db) AS txn_db,
       t.txn_start,
       round(extract(epoch FROM convert_timezone(current_setting('timezone'), 'UTC', getdate()))
             - extract(epoch FROM t.txn_start)) AS open_seconds
FROM svv_transactions AS t
WHERE t.lockable_object_type = 'transactionid'
  AND t.granted
  AND t.txn_start < convert_timezone(current_setting('timezone'), 'UTC', getdate())
                    - interval '1 hour'
ORDER BY t.txn_start
