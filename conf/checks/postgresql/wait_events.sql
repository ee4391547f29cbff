-- Many active sessions waiting on the same kind of resource (heavyweight
-- locks, LWLocks, buffer pins, I/O): a contention hot spot.
-- Threshold: pghealthd.wait_events.min_sessions (integer, default 5).
-- pghealthd's own connections (same role and application_name) are left out.
--
-- Privileges: pg_monitor.  Without it (pg_read_all_stats) pg_stat_activity
-- hides the state, query, times and wait of other roles' sessions, so the
-- check fails, its error naming the GRANT, rather than report them healthy.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.wait_events.min_sessions', true), ''),
                    '5')::int AS min_sessions
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
SELECT a.wait_event_type, a.wait_event, count(*) AS sessions,
       max(now() - a.query_start) AS longest_wait,
       array_to_string((array_agg(a.pid ORDER BY a.query_start))[1:10], ' ') AS sample_pids
FROM pg_stat_activity AS a, conf
WHERE a.state = 'active'
  AND a.pid <> pg_backend_pid()
  -- Not pghealthd's own other connections, reading catalogs for their
  -- checks at this very moment: a monitor does not count itself.
  AND NOT (a.usename = current_user
           AND a.application_name = current_setting('application_name'))
  AND a.wait_event_type IN ('Lock', 'LWLock', 'BufferPin', 'IO')
GROUP BY a.wait_event_type, a.wait_event, conf.min_sessions
HAVING count(*) >= conf.min_sessions
ORDER BY sessions DESC
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.n > 0 THEN format(
               'pghealthd: missing privilege: wait_events cannot see %s of the %s processes'
               ' in pg_stat_activity; GRANT pg_monitor TO %I',
               h.n, h.total, current_user)::int END
        FROM hidden AS h)
