-- Inventory: the 10 queries with the longest elapsed time in the last 24
-- hours (SYS_QUERY_HISTORY, times in microseconds, so the seconds keep their
-- tenths), on the main cluster ('primary') or a concurrency scaling one
-- (compute_type).  System queries (user 1) are left out.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT q.query_id, q.user_id, trim(q.database_name) AS database_name,
       trim(q.query_type) AS query_type, trim(q.status) AS status,
       trim(q.compute_type) AS compute_type, q.start_time,
       round(q.elapsed_time / 1000000.0, 1) AS elapsed_seconds,
       round(q.queue_time / 1000000.0, 1) AS queue_seconds,
       trim(left(q.query_text, 200)) AS query_text
FROM sys_query_history AS q
WHERE q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
  AND q.user_id > 1
ORDER BY q.elapsed_time DESC
LIMIT 10
