-- Inventory: the largest tables of the database pghealthd connects to, with
-- their indexes and TOAST data.  Candidates are chosen from the catalog's
-- page counts, then measured; a table that someone holds (or waits for) an
-- ACCESS EXCLUSIVE lock on is not measured (size NULL), so this check never
-- queues behind a lock.
-- Setting: pghealthd.largest_tables.limit (rows, default 20).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.largest_tables.limit', true), ''),
                    '20')::int AS lim
), locked AS (
    SELECT l.relation AS oid
    FROM pg_locks AS l
    WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), blocked AS (
    SELECT oid FROM locked
    UNION
    SELECT i.indrelid FROM pg_index AS i JOIN locked ON locked.oid = i.indexrelid
    UNION
    SELECT c.oid FROM pg_class AS c JOIN locked ON locked.oid = c.reltoastrelid
), cand AS (
    SELECT c.oid, n.nspname, c.relname, c.reltuples
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_class AS t ON t.oid = c.reltoastrelid
    WHERE c.relkind IN ('r', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
    ORDER BY c.relpages::bigint + coalesce(t.relpages, 0) DESC
    LIMIT 100
), sized AS (
    SELECT cand.*,
           CASE WHEN NOT EXISTS (SELECT 1 FROM blocked AS b WHERE b.oid = cand.oid)
                THEN pg_total_relation_size(cand.oid) END AS total_bytes
    FROM cand
)
SELECT s.nspname AS schema, s.relname AS table_name, s.total_bytes,
       pg_size_pretty(s.total_bytes) AS total_size,
       CASE WHEN s.reltuples >= 0 THEN s.reltuples::bigint END AS estimated_rows
FROM sized AS s
ORDER BY s.total_bytes DESC NULLS LAST, s.nspname, s.relname
LIMIT (SELECT lim FROM conf)
