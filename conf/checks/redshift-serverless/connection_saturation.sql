-- Active sessions close to the workgroup's connection limit
-- (SYS_SESSION_HISTORY status 'active'; "Quotas and limits in Amazon
-- Redshift": 2,000 connections to a Serverless workgroup).
-- Thresholds: max_connections 2000, ratio 0.9 (a finding from 1800 sessions).
-- AWS: SYS_SESSION_HISTORY; Quotas and limits in Amazon Redshift.
WITH conf AS (
    SELECT 2000 AS max_connections, 0.9 AS ratio
)
SELECT count(*) AS active_sessions, conf.max_connections,
       round(100.0 * count(*) / conf.max_connections, 1) AS pct_of_limit,
       count(DISTINCT s.user_id) AS users,
       min(s.start_time) AS oldest_session_start
FROM sys_session_history AS s
CROSS JOIN conf
WHERE s.status = 'active'
GROUP BY conf.max_connections, conf.ratio
HAVING count(*) >= conf.ratio * conf.max_connections
