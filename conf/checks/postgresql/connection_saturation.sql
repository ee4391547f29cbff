-- Client connections close to the limit that ordinary users can reach:
-- max_connections minus superuser_reserved_connections (and, on PostgreSQL
-- 16+, reserved_connections).  Replication and background workers have their
-- own limits and are not counted.
-- Threshold: pghealthd.connection_saturation.min_ratio (0..1, default 0.9).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.connection_saturation.min_ratio', true), ''),
                    '0.9')::numeric AS min_ratio
), lim AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           greatest(current_setting('max_connections')::int
                    - current_setting('superuser_reserved_connections')::int
                    - coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int,
                    1) AS usable
)
SELECT count(*) AS connections, lim.usable AS usable_connections,
       lim.max_connections,
       round(100.0 * count(*) / lim.usable, 1) AS pct_used,
       count(*) FILTER (WHERE a.state = 'active') AS active,
       count(*) FILTER (WHERE a.state LIKE 'idle in transaction%') AS idle_in_transaction,
       count(*) FILTER (WHERE a.state = 'idle') AS idle
FROM pg_stat_activity AS a, lim, conf
WHERE a.backend_type = 'client backend'
GROUP BY lim.usable, lim.max_connections, conf.min_ratio
HAVING count(*) >= conf.min_ratio * lim.usable
