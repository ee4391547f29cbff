-- Statements that have been running for longer than a threshold.
-- Threshold: pghealthd.long_running_queries.min_age (interval, default 5 minutes).
--
-- Privileges: pg_monitor.  Without it (pg_read_all_stats) pg_stat_activity
-- hides the state, query, times and wait of other roles' sessions, so the
-- check fails, its error naming the GRANT, rather than report them healthy.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.long_running_queries.min_age', true), ''),
                    '5 minutes')::interval AS min_age
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
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.n > 0 THEN format(
               'pghealthd: missing privilege: long_running_queries cannot see %s of the %s processes'
               ' in pg_stat_activity; GRANT pg_monitor TO %I',
               h.n, h.total, current_user)::int END
        FROM hidden AS h)
