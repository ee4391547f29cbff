-- Many active sessions waiting on the same kind of resource (heavyweight
-- locks, LWLocks, buffer pins, I/O): a contention hot spot.
-- Threshold: pghealthd.wait_events.min_sessions (integer, default 5).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.wait_events.min_sessions', true), ''),
                    '5')::int AS min_sessions
)
SELECT a.wait_event_type, a.wait_event, count(*) AS sessions,
       max(now() - a.query_start) AS longest_wait,
       array_to_string((array_agg(a.pid ORDER BY a.query_start))[1:10], ' ') AS sample_pids
FROM pg_stat_activity AS a, conf
WHERE a.state = 'active'
  AND a.pid <> pg_backend_pid()
  AND a.wait_event_type IN ('Lock', 'LWLock', 'BufferPin', 'IO')
GROUP BY a.wait_event_type, a.wait_event, conf.min_sessions
HAVING count(*) >= conf.min_sessions
ORDER BY sessions DESC
