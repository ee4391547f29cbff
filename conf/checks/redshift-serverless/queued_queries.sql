-- Queries waiting in the queue right now for longer than a threshold
-- (SYS_QUERY_HISTORY status 'queued'): the workgroup is at its capacity
-- (base or maximum RPUs).
-- Threshold: 5 minutes since the query started.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT q.query_id, q.session_id, q.user_id, trim(q.database_name) AS database_name,
       q.start_time,
       round(extract(epoch FROM convert_timezone(current_setting('timezone'), 'UTC', getdate()))
             - extract(epoch FROM q.start_time)) AS seconds,
       trim(left(q.query_text, 200)) AS query_text
FROM sys_query_history AS q
WHERE q.status = 'queued'
  AND q.start_time < convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '5 minutes'
ORDER BY q.start_time
