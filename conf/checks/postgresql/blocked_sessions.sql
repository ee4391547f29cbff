-- Sessions waiting on a heavyweight lock, one row per (waiter, blocker) with
-- what the blocker is running.  A blocker pid of 0 is a prepared transaction.
-- Threshold: pghealthd.blocked_sessions.min_wait (interval, default 30 seconds;
-- measured from the start of the waiting statement).
--
-- Privileges: pg_monitor.  Without it (pg_read_all_stats) pg_stat_activity
-- hides the state, query, times and wait of other roles' sessions, so the
-- check fails, its error naming the GRANT, rather than report them healthy.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.blocked_sessions.min_wait', true), ''),
                    '30 seconds')::interval AS min_wait
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
SELECT w.pid AS blocked_pid, w.usename AS blocked_user, w.datname,
       now() - w.query_start AS waiting_for,
       w.wait_event AS lock_type,
       left(w.query, 200) AS blocked_query,
       bp.pid AS blocker_pid, b.usename AS blocker_user, b.state AS blocker_state,
       now() - b.xact_start AS blocker_xact_age,
       left(b.query, 200) AS blocker_query
FROM pg_stat_activity AS w
CROSS JOIN conf
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
LEFT JOIN pg_stat_activity AS b ON b.pid = bp.pid
WHERE w.wait_event_type = 'Lock'
  AND now() - w.query_start > conf.min_wait
ORDER BY waiting_for DESC, blocked_pid, blocker_pid
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.n > 0 THEN format(
               'pghealthd: missing privilege: blocked_sessions cannot see %s of the %s processes'
               ' in pg_stat_activity; GRANT pg_monitor TO %I',
               h.n, h.total, current_user)::int END
        FROM hidden AS h)
