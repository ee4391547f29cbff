-- Queries of the last hour that waited long in the queue before running
-- (SYS_QUERY_HISTORY queue_time, microseconds), per database and user.
-- Threshold: 60 seconds of queueing.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT trim(q.database_name) AS database_name, q.user_id,
       count(*) AS queries_waiting_long,
       round(max(q.queue_time) / 1000000.0, 1) AS max_queue_seconds,
       round(avg(q.queue_time) / 1000000.0, 1) AS avg_queue_seconds,
       max(q.query_id) AS sample_query_id
FROM sys_query_history AS q
WHERE q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
  AND q.queue_time >= 60 * 1000000
GROUP BY q.database_name, q.user_id
ORDER BY max_queue_seconds DESC
