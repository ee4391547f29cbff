-- Users with many queries that ended without completing in the last hour
-- (SYS_QUERY_HISTORY status 'failed' or 'canceled': errors, cancels by the
-- user, WLM timeouts or query monitoring rules), on the main and on
-- concurrency scaling clusters.  System queries (user 1, rdsdb) are left
-- out.
-- Threshold: 10 such queries per user in an hour.
-- AWS: SYS_QUERY_HISTORY; Visibility of data in system tables and views
-- (filtering system-generated queries); GETDATE; CONVERT_TIMEZONE.
SELECT q.user_id, count(*) AS aborted_queries,
       sum(CASE WHEN q.status = 'failed' THEN 1 ELSE 0 END) AS failed,
       sum(CASE WHEN q.status = 'canceled' THEN 1 ELSE 0 END) AS canceled,
       max(q.start_time) AS last_start, max(q.query_id) AS sample_query_id
FROM sys_query_history AS q
WHERE q.status IN ('failed', 'canceled')
  AND q.user_id > 1
  AND q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
GROUP BY q.user_id
HAVING count(*) >= 10
ORDER BY aborted_queries DESC
