-- Databases writing a lot of temporary files (sorts and hashes that did not
-- fit in work_mem), per day since their statistics were last reset (or since
-- the server started).  log_temp_files shows which statements.
-- Threshold: pghealthd.temp_files.max_bytes_per_day (bytes, default 10 GiB).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.temp_files.max_bytes_per_day', true), ''),
                    '10737418240')::numeric AS max_bytes
), d AS (
    SELECT s.datname, s.temp_files, s.temp_bytes,
           coalesce(s.stats_reset, pg_postmaster_start_time()) AS since,
           greatest(extract(epoch FROM now() - coalesce(s.stats_reset, pg_postmaster_start_time())),
                    60) / 86400 AS days
    FROM pg_stat_database AS s
    WHERE s.datname IS NOT NULL AND s.temp_bytes > 0
)
SELECT d.datname, d.temp_files, d.temp_bytes, d.since,
       pg_size_pretty((d.temp_bytes / d.days)::bigint) AS per_day,
       current_setting('work_mem') AS work_mem
FROM d, conf
WHERE d.temp_bytes / d.days >= conf.max_bytes
ORDER BY d.temp_bytes / d.days DESC
