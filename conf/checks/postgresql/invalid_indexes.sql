-- Invalid indexes (of the database pghealthd connects to), left behind by a
-- failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY: they are
-- maintained on every write but never used.  Builds still in progress are
-- left out.  Drop and rebuild them.
SELECT n.nspname AS schema, t.relname AS table_name, c.relname AS index_name,
       i.indisready AS is_ready,
       pg_size_pretty(c.relpages::bigint * current_setting('block_size')::int) AS estimated_size,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index AS p
                  WHERE p.index_relid = i.indexrelid)
ORDER BY 1, 2, 3
