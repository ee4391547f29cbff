-- Tables changed past the point where autovacuum should analyze them
-- (autovacuum_analyze_threshold + autovacuum_analyze_scale_factor *
-- reltuples, the table's own settings winning) but not analyzed for a while:
-- the planner works from stale statistics.
-- Threshold: pghealthd.analyze_overdue.min_age (interval, default 1 hour):
-- how long the table must have gone without an analyze; keep it well above
-- autovacuum_naptime, the time autovacuum takes to come round.
--
-- The rule: a table past its trigger is reported
--  * if it was last analyzed (by hand or by autovacuum) over min_age ago;
--  * if it was never analyzed (no analyze since its statistics began) and
--    autovacuum cannot analyze it at all: autovacuum or track_counts off, or
--    the table's autovacuum_enabled = false.  Waiting would not help, so its
--    age does not matter;
--  * if it was never analyzed and it is proven to have gone unanalyzed for
--    min_age: its pg_class row was committed over min_age ago (read with
--    pg_xact_commit_timestamp, so only when track_commit_timestamp is on, and
--    not on a standby), and its statistics have been counting for as long:
--    this database's statistics were last reset (pg_stat_database.stats_reset;
--    resetting one table's counters sets it too) and all statistics were last
--    lost (pg_stat_archiver.stats_reset: set when a crash, an immediate
--    shutdown or a restored backup throws them away) over min_age ago.
-- What it cannot see: PostgreSQL records neither when a table was created
-- nor when it passed its trigger.  So, without track_commit_timestamp, a
-- never-analyzed table that autovacuum may analyze is never reported, however
-- long autovacuum has been starved or locked out of it; with it, neither is
-- one whose pg_class row has no commit timestamp (written before the setting
-- was turned on, or older than the timestamps kept), and rewriting the row
-- (ALTER TABLE, TRUNCATE, GRANT, ...) or pg_stat_reset_shared('archiver')
-- starts the wait again.  And a table whose last analyze, or proven age, is
-- over min_age but that passed its trigger moments ago is reported until
-- autovacuum reaches it.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.analyze_overdue.min_age', true), ''),
                    '1 hour')::interval AS min_age,
           NOT (current_setting('autovacuum')::boolean
                AND current_setting('track_counts')::boolean) AS autovacuum_off,
           current_setting('track_commit_timestamp')::boolean
               AND NOT pg_is_in_recovery() AS commit_ts,
           (SELECT d.stats_reset FROM pg_stat_database AS d
            WHERE d.datname = current_database()) AS db_stats_reset,
           (SELECT a.stats_reset FROM pg_stat_archiver AS a) AS stats_lost
), t AS (
    SELECT s.schemaname, s.relname, s.n_live_tup, s.n_mod_since_analyze,
           greatest(s.last_analyze, s.last_autoanalyze) AS last_analyzed,
           coalesce((SELECT o.option_value FROM pg_options_to_table(c.reloptions) AS o
                     WHERE o.option_name = 'autovacuum_enabled'),
                    'on')::boolean AS autovacuum_enabled,
           c.xmin AS row_xmin,
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
  AND (t.last_analyzed < now() - conf.min_age
       OR t.last_analyzed IS NULL
          AND (conf.autovacuum_off
               OR NOT t.autovacuum_enabled
               OR conf.stats_lost < now() - conf.min_age
                  AND coalesce(conf.db_stats_reset, '-infinity') < now() - conf.min_age
                  AND CASE WHEN conf.commit_ts
                           THEN pg_xact_commit_timestamp(t.row_xmin) < now() - conf.min_age
                      END))
ORDER BY t.n_mod_since_analyze DESC
