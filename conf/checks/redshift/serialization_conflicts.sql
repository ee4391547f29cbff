-- Transactions rolled back by serializable isolation conflicts in the last
-- 24 hours (STL_TR_CONFLICT, error 1023), per table.
-- Per database (scope = database): conflicts of transactions that ran
-- queries in the connected database (SYS_QUERY_HISTORY transaction_id and
-- database_name), with the table's name from its pg_class.
-- AWS: STL_TR_CONFLICT; SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT t.table_id, trim(c.relname) AS table_name, count(*) AS conflicts,
       max(t.abort_time) AS last_abort, max(t.xact_id) AS sample_xid
FROM stl_tr_conflict AS t
LEFT JOIN pg_class AS c ON c.oid = t.table_id
WHERE t.abort_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
  AND t.xact_id IN (SELECT q.transaction_id FROM sys_query_history AS q
                    WHERE trim(q.database_name) = current_database())
GROUP BY t.table_id, c.relname
ORDER BY conflicts DESC
