-- Client connections close to the limit that ordinary users can reach:
-- max_connections minus superuser_reserved_connections (and, on PostgreSQL
-- 16+, reserved_connections).  Replication and background workers have their
-- own limits and are not counted.
-- Threshold: pghealthd.connection_saturation.min_ratio (0..1, default 0.9).
--
-- Privileges: pg_monitor.  Without it (pg_read_all_stats) pg_stat_activity
-- hides the backend type of other roles' sessions, which then cannot be
-- counted, so the check fails, its error naming the GRANT, rather than
-- report a count it cannot make.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.connection_saturation.min_ratio', true), ''),
                    '0.9')::numeric AS min_ratio
), lim AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           greatest(current_setting('max_connections')::int
                    - current_setting('superuser_reserved_connections')::int
                    - coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int,
                    1) AS usable
), hidden AS (
    -- Sessions whose details this role cannot see: without pg_read_all_stats,
    -- those of other roles and of background processes (pg_stat_activity's
    -- own rule; before PostgreSQL 15 membership in pg_read_all_stats counts,
    -- from 15 on its privileges).
    SELECT count(*) FILTER (WHERE NOT (r.all_stats
                                       OR coalesce(pg_has_role(a.usesysid, 'USAGE'), false))) AS n,
           count(*) AS total
    FROM pg_stat_activity AS a,
         (SELECT pg_has_role('pg_read_all_stats',
                             CASE WHEN current_setting('server_version_num')::int >= 150000
                                  THEN 'USAGE' ELSE 'MEMBER' END) AS all_stats) AS r
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
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.n > 0 THEN format(
               'pghealthd: missing privilege: connection_saturation cannot see %s of the %s processes'
               ' in pg_stat_activity; GRANT pg_monitor TO %I',
               h.n, h.total, current_user)::int END
        FROM hidden AS h)
