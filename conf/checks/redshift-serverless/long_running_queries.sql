-- Queries running for longer than a threshold (SYS_QUERY_HISTORY; times in
-- microseconds).
-- Threshold: 30 minutes.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT q.query_id, q.session_id, q.user_id, trim(q.database_name) AS database_name,
       trim(q.query_type) AS query_type, trim(q.status) AS status, q.start_time,
       round(extract(epoch FROM convert_timezone(current_setting('timezone'), 'UTC', getdate()))
             - extract(epoch FROM q.start_time)) AS seconds,
       trim(left(q.query_text, 200)) AS query_text
FROM sys_query_history AS q
WHERE q.status IN ('running', 'returning')
  AND q.start_time < convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '30 minutes'
ORDER BY q.start_time
