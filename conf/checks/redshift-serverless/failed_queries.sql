-- The same error failing queries again and again in the last hour
-- (SYS_QUERY_HISTORY status 'failed'), per error message.
-- Threshold: 5 failures with the same message.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT trim(q.error_message) AS error_message, count(*) AS failures,
       count(DISTINCT q.user_id) AS users, max(q.start_time) AS last_failure,
       max(q.query_id) AS sample_query_id
FROM sys_query_history AS q
WHERE q.status = 'failed'
  AND q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
GROUP BY trim(q.error_message)
HAVING count(*) >= 5
ORDER BY failures DESC
