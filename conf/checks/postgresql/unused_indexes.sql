-- Indexes (of the database pghealthd connects to) never scanned since the
-- statistics began counting, above a size: they cost writes, vacuum time
-- and disk for nothing.  Unique, primary key and constraint indexes are left
-- out, and so are all indexes while the statistics are younger than a
-- minimum age.  The statistics count since the later of this database's
-- last reset (pg_stat_database.stats_reset) and the last time all of them
-- were lost (pg_stat_archiver.stats_reset: the first start after initdb, a
-- crash, an immediate shutdown, a restored backup): a fresh cluster, or one
-- that just crashed, has seen no scan yet.  Scans on standbys are not
-- counted here: check them too before dropping anything.
-- Thresholds: pghealthd.unused_indexes.min_bytes (estimated size, default 10 MiB),
--             pghealthd.unused_indexes.min_stats_age (interval, default 7 days).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.unused_indexes.min_bytes', true), ''),
                    '10485760')::numeric AS min_bytes,
           coalesce(nullif(current_setting('pghealthd.unused_indexes.min_stats_age', true), ''),
                    '7 days')::interval AS min_stats_age
), db AS (
    SELECT greatest(d.stats_reset, (SELECT a.stats_reset FROM pg_stat_archiver AS a)) AS stats_since
    FROM pg_stat_database AS d WHERE d.datname = current_database()
)
SELECT s.schemaname AS schema, s.relname AS table_name, s.indexrelname AS index_name,
       c.relpages::bigint * current_setting('block_size')::int AS estimated_bytes,
       pg_size_pretty(c.relpages::bigint * current_setting('block_size')::int) AS estimated_size,
       s.idx_scan, db.stats_since
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
JOIN pg_class AS c ON c.oid = s.indexrelid
CROSS JOIN conf
LEFT JOIN db ON true
WHERE s.idx_scan = 0
  AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = s.indexrelid)
  AND c.relpages::numeric * current_setting('block_size')::int >= conf.min_bytes
  AND (db.stats_since IS NULL OR db.stats_since < now() - conf.min_stats_age)
ORDER BY estimated_bytes DESC
