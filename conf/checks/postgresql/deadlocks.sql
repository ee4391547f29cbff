-- Databases with deadlocks at a sustained rate, counted since their
-- statistics were last reset (or since the server started when they never
-- were).  pg_stat_reset() in a database clears its finding.
-- Threshold: pghealthd.deadlocks.max_per_day (deadlocks per day, default 1).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.deadlocks.max_per_day', true), ''),
                    '1')::numeric AS max_per_day
), d AS (
    SELECT s.datname, s.deadlocks,
           coalesce(s.stats_reset, pg_postmaster_start_time()) AS since,
           greatest(extract(epoch FROM now() - coalesce(s.stats_reset, pg_postmaster_start_time())),
                    60) / 86400 AS days
    FROM pg_stat_database AS s
    WHERE s.datname IS NOT NULL AND s.deadlocks > 0
)
SELECT d.datname, d.deadlocks, d.since, round(d.deadlocks / d.days, 2) AS per_day
FROM d, conf
WHERE d.deadlocks / d.days >= conf.max_per_day
ORDER BY per_day DESC
