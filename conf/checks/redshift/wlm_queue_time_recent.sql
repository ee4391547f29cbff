-- WLM queues where queries waited long in the last hour (SYS_QUERY_HISTORY
-- queue_time, microseconds, with the queue's service_class_id and
-- service_class_name), on the main and on concurrency scaling clusters.
-- System queries (user 1) are left out.
-- Threshold: queries that queued 60 seconds or more.
-- AWS: SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT q.service_class_id, trim(q.service_class_name) AS queue_name,
       count(*) AS queries_waiting_long,
       round(max(q.queue_time) / 1000000.0, 1) AS max_queue_seconds,
       round(avg(q.queue_time) / 1000000.0, 1) AS avg_queue_seconds,
       max(q.query_id) AS sample_query_id
FROM sys_query_history AS q
WHERE q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
  AND q.queue_time >= 60 * 1000000
  AND q.user_id > 1
GROUP BY q.service_class_id, q.service_class_name
ORDER BY max_queue_seconds DESC
