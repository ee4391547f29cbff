-- Databases with deadlocks since this check's previous run (the counters it
-- kept in the output directory: pghealthd.previous, see state_sql in
-- postgresql.ini), so that one old deadlock is reported once, not for as
-- long as the statistics live (PostgreSQL 15 and later keep them over a
-- clean restart).  The first run only takes the counters; a statistics reset
-- or a crash in between starts over.  log_lock_waits and the server log's
-- "deadlock detected" lines show which statements.
-- Threshold: pghealthd.deadlocks.min_count (deadlocks since the previous
-- run, default 1).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.deadlocks.min_count', true), ''),
                    '1')::bigint AS min_count
), prev AS (
    SELECT (p ->> 'at')::float8 AS at, p -> 'db' AS db
    FROM (SELECT nullif(current_setting('pghealthd.previous', true), '')::json AS p) AS x
    WHERE p IS NOT NULL
)
SELECT s.datname, s.deadlocks - (prev.db -> s.datname ->> 0)::bigint AS deadlocks_since,
       to_timestamp(prev.at) AS since, s.deadlocks AS deadlocks_total
FROM pg_stat_database AS s, prev, conf
WHERE s.datname IS NOT NULL AND prev.db -> s.datname IS NOT NULL
  AND (prev.db -> s.datname ->> 1) IS NOT DISTINCT FROM s.stats_reset::text
  AND s.deadlocks - (prev.db -> s.datname ->> 0)::bigint >= greatest(conf.min_count, 1)
ORDER BY deadlocks_since DESC, s.datname
