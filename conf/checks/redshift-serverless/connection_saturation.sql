-- Active sessions close to the workgroup's connection limit
-- (SYS_SESSION_HISTORY status 'active'; Serverless allows 2000 connections).
-- Threshold: 1800 sessions.
SELECT count(*) AS active_sessions,
       count(DISTINCT s.user_id) AS users,
       min(s.start_time) AS oldest_session_start
FROM sys_session_history AS s
WHERE s.status = 'active'
HAVING count(*) >= 1800
