-- Tables changed past the point where autovacuum should analyze them
-- (autovacuum_analyze_threshold + autovacuum_analyze_scale_factor *
-- reltuples, the table's own settings winning) but not analyzed for a while:
-- the planner works from stale statistics.
-- Threshold: pghealthd.analyze_overdue.min_age (interval since the last
-- analyze, default 1 hour).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.analyze_overdue.min_age', true), ''),
                    '1 hour')::interval AS min_age
), t AS (
    SELECT s.schemaname, s.relname, s.n_live_tup, s.n_mod_since_analyze,
           greatest(s.last_analyze, s.last_autoanalyze) AS last_analyzed,
           coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) AS o
                     WHERE o.option_name = 'autovacuum_analyze_threshold'),
                    current_setting('autovacuum_analyze_threshold'))::numeric
           + coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) AS o
                       WHERE o.option_name = 'autovacuum_analyze_scale_factor'),
                      current_setting('autovacuum_analyze_scale_factor'))::numeric
             * greatest(c.reltuples, 0) AS analyze_trigger
    FROM pg_stat_user_tables AS s
    JOIN pg_class AS c ON c.oid = s.relid
    WHERE c.relkind IN ('r', 'm')
)
SELECT t.schemaname AS schema, t.relname AS table_name, t.n_live_tup, t.n_mod_since_analyze,
       round(t.analyze_trigger) AS analyze_trigger, t.last_analyzed,
       now() - t.last_analyzed AS since_last_analyze
FROM t, conf
WHERE t.n_mod_since_analyze > t.analyze_trigger
  AND (t.last_analyzed IS NULL OR t.last_analyzed < now() - conf.min_age)
ORDER BY t.n_mod_since_analyze DESC
