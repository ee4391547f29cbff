-- Inventory: the size of every database that accepts connections (and that
-- the monitoring role may measure).
SELECT d.datname, pg_database_size(d.oid) AS bytes,
       pg_size_pretty(pg_database_size(d.oid)) AS size
FROM pg_database AS d
WHERE d.datallowconn
  AND (has_database_privilege(d.oid, 'CONNECT')
       OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'))
ORDER BY bytes DESC
