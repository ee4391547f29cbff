-- Sessions sitting idle inside an open transaction: they hold their locks and
-- snapshot while doing nothing (an application that forgot to commit).
-- Threshold: pghealthd.idle_in_transaction.min_age (interval, default 5 minutes).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.idle_in_transaction.min_age', true), ''),
                    '5 minutes')::interval AS min_age
)
SELECT a.pid, a.usename, a.datname, a.application_name, a.client_addr, a.state,
       now() - a.state_change AS idle_for,
       now() - a.xact_start AS xact_age,
       left(a.query, 300) AS last_query
FROM pg_stat_activity AS a, conf
WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
  AND now() - a.state_change > conf.min_age
ORDER BY idle_for DESC
