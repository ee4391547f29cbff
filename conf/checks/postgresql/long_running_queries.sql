-- Statements that have been running for longer than a threshold.
-- Threshold: pghealthd.long_running_queries.min_age (interval, default 5 minutes).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.long_running_queries.min_age', true), ''),
                    '5 minutes')::interval AS min_age
)
SELECT a.pid, a.usename, a.datname, a.application_name, a.client_addr,
       now() - a.query_start AS runtime,
       a.wait_event_type, a.wait_event,
       left(a.query, 300) AS query
FROM pg_stat_activity AS a, conf
WHERE a.state = 'active'
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
  AND now() - a.query_start > conf.min_age
ORDER BY runtime DESC
