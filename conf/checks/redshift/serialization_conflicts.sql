-- Transactions rolled back by serializable isolation conflicts in the last
-- 24 hours (STL_TR_CONFLICT, error 1023), per table.
SELECT t.table_id, trim(c.relname) AS table_name, count(*) AS conflicts,
       max(t.abort_time) AS last_abort
FROM stl_tr_conflict AS t
LEFT JOIN pg_class AS c ON c.oid = t.table_id
WHERE t.abort_time > getdate() - interval '24 hours'
GROUP BY t.table_id, c.relname
ORDER BY conflicts DESC
