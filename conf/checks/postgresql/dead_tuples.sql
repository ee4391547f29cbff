-- Tables (of the database pghealthd connects to) with many dead rows, both
-- in number and as a share of the table: vacuum is not keeping up.
-- Thresholds: pghealthd.dead_tuples.min_dead (rows, default 10000),
--             pghealthd.dead_tuples.min_ratio (dead / (live + dead), default 0.2).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.dead_tuples.min_dead', true), ''),
                    '10000')::bigint AS min_dead,
           coalesce(nullif(current_setting('pghealthd.dead_tuples.min_ratio', true), ''),
                    '0.2')::numeric AS min_ratio
)
SELECT s.schemaname AS schema, s.relname AS table_name, s.n_live_tup, s.n_dead_tup,
       round(100.0 * s.n_dead_tup / greatest(s.n_live_tup + s.n_dead_tup, 1), 1) AS dead_pct,
       s.last_vacuum, s.last_autovacuum, s.autovacuum_count
FROM pg_stat_user_tables AS s, conf
WHERE s.n_dead_tup >= conf.min_dead
  AND s.n_dead_tup >= conf.min_ratio * (s.n_live_tup + s.n_dead_tup)
ORDER BY s.n_dead_tup DESC
