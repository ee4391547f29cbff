-- Sessions waiting on a heavyweight lock, one row per (waiter, blocker) with
-- what the blocker is running.  A blocker pid of 0 is a prepared transaction.
-- Threshold: pghealthd.blocked_sessions.min_wait (interval, default 30 seconds;
-- measured from the start of the waiting statement).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.blocked_sessions.min_wait', true), ''),
                    '30 seconds')::interval AS min_wait
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
