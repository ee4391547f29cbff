-- Tables whose dead rows are past the point where autovacuum should vacuum
-- them (autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor *
-- reltuples, the table's own settings winning) but that have not been
-- vacuumed for a while: autovacuum is disabled, starved or blocked.
-- Threshold: pghealthd.vacuum_overdue.min_age (interval since the last vacuum,
-- default 1 hour).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.vacuum_overdue.min_age', true), ''),
                    '1 hour')::interval AS min_age
), t AS (
    SELECT s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup,
           greatest(s.last_vacuum, s.last_autovacuum) AS last_vacuumed,
           coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) AS o
                     WHERE o.option_name = 'autovacuum_vacuum_threshold'),
                    current_setting('autovacuum_vacuum_threshold'))::numeric
           + coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) AS o
                       WHERE o.option_name = 'autovacuum_vacuum_scale_factor'),
                      current_setting('autovacuum_vacuum_scale_factor'))::numeric
             * greatest(c.reltuples, 0) AS vacuum_trigger
    FROM pg_stat_user_tables AS s
    JOIN pg_class AS c ON c.oid = s.relid
)
SELECT t.schemaname AS schema, t.relname AS table_name, t.n_live_tup, t.n_dead_tup,
       round(t.vacuum_trigger) AS vacuum_trigger, t.last_vacuumed,
       now() - t.last_vacuumed AS since_last_vacuum
FROM t, conf
WHERE t.n_dead_tup > t.vacuum_trigger
  AND (t.last_vacuumed IS NULL OR t.last_vacuumed < now() - conf.min_age)
ORDER BY t.n_dead_tup DESC
