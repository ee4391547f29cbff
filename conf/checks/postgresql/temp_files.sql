-- Databases writing temporary files fast (sorts and hashes that did not fit
-- in work_mem): the bytes written since this check's previous run, as a rate
-- per day.  The counters come from the previous run (pghealthd.previous, kept
-- by the state_sql in postgresql.ini in the output directory), not from the
-- statistics reset or the server start: PostgreSQL 15 and later keep them
-- over a clean restart, so old files would read as a rate for ever.  The
-- first run only takes the counters; a statistics reset or a crash in
-- between starts over.  log_temp_files shows which statements.
-- Threshold: pghealthd.temp_files.max_bytes_per_day (bytes, default 10 GiB).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.temp_files.max_bytes_per_day', true), ''),
                    '10737418240')::numeric AS max_bytes
), prev AS (
    SELECT (p ->> 'at')::float8 AS at, p -> 'db' AS db
    FROM (SELECT nullif(current_setting('pghealthd.previous', true), '')::json AS p) AS x
    WHERE p IS NOT NULL
), d AS (
    SELECT s.datname,
           s.temp_files - (prev.db -> s.datname ->> 0)::bigint AS temp_files_since,
           s.temp_bytes - (prev.db -> s.datname ->> 1)::bigint AS temp_bytes_since,
           to_timestamp(prev.at) AS since,
           greatest(extract(epoch FROM now()) - prev.at, 1) / 86400 AS days
    FROM pg_stat_database AS s, prev
    WHERE s.datname IS NOT NULL AND prev.db -> s.datname IS NOT NULL
      AND (prev.db -> s.datname ->> 2) IS NOT DISTINCT FROM s.stats_reset::text
)
SELECT d.datname, d.temp_files_since, d.temp_bytes_since, d.since,
       pg_size_pretty((d.temp_bytes_since / d.days)::bigint) AS per_day,
       current_setting('work_mem') AS work_mem
FROM d, conf
WHERE d.temp_bytes_since > 0 AND d.temp_bytes_since / d.days >= conf.max_bytes
ORDER BY d.temp_bytes_since / d.days DESC
