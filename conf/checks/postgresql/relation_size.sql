-- Tables (and materialized views) of the database pghealthd connects to
-- larger than a limit, with their TOAST data and indexes: the size
-- warning check_postgres's relation_size and table_size give, here for
-- every table at once.  Each table is measured (a stat of its files, no
-- read), except one that someone holds or awaits an ACCESS EXCLUSIVE lock
-- on, its TOAST table or one of its indexes: measuring would queue behind
-- the lock, so it is left out this time.
-- Threshold: pghealthd.relation_size.max_bytes (bytes, default 100 GiB).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.relation_size.max_bytes', true), ''),
                    '107374182400')::numeric AS max_bytes
), exclusive AS (
    SELECT l.relation
    FROM pg_locks AS l
    WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'
      AND l.database = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
), measured AS (
    SELECT n.nspname, c.relname, c.relkind,
           pg_total_relation_size(c.oid) AS total_bytes,
           pg_relation_size(c.oid) AS table_bytes,
           pg_indexes_size(c.oid) AS index_bytes
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND NOT EXISTS (SELECT FROM exclusive AS x
                      WHERE x.relation IN (c.oid, c.reltoastrelid)
                         OR x.relation IN (SELECT i.indexrelid FROM pg_index AS i
                                           WHERE i.indrelid = c.oid))
)
SELECT m.nspname AS schema, m.relname AS table_name,
       CASE m.relkind WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind,
       m.total_bytes, pg_size_pretty(m.total_bytes) AS total_size,
       m.table_bytes, m.index_bytes,
       m.total_bytes - m.table_bytes - m.index_bytes AS toast_bytes,
       conf.max_bytes
FROM measured AS m, conf
WHERE m.total_bytes > conf.max_bytes
ORDER BY m.total_bytes DESC, m.nspname, m.relname
