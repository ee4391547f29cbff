-- Users with many queries canceled in the last hour (SYS_QUERY_HISTORY
-- status 'canceled': by the user, a timeout or a query monitoring rule).
-- Threshold: 10 canceled queries per user.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT q.user_id, count(*) AS canceled_queries, max(q.start_time) AS last_start,
       max(q.query_id) AS sample_query_id
FROM sys_query_history AS q
WHERE q.status = 'canceled'
  AND q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
GROUP BY q.user_id
HAVING count(*) >= 10
ORDER BY canceled_queries DESC
