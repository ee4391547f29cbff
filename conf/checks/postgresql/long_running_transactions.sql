-- Transactions open for longer than a threshold, whatever they are doing:
-- they hold locks and keep VACUUM from removing dead rows.
-- Threshold: pghealthd.long_running_transactions.min_age (interval, default 1 hour).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.long_running_transactions.min_age', true), ''),
                    '1 hour')::interval AS min_age
)
SELECT a.pid, a.usename, a.datname, a.application_name, a.client_addr, a.state,
       now() - a.xact_start AS xact_age,
       now() - a.state_change AS in_state_for,
       age(a.backend_xmin) AS xmin_age,
       left(a.query, 300) AS last_query
FROM pg_stat_activity AS a, conf
WHERE a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
  AND now() - a.xact_start > conf.min_age
ORDER BY xact_age DESC
