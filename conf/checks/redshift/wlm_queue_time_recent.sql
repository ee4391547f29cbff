-- WLM queues where queries waited long in the last hour (STL_WLM_QUERY;
-- times in microseconds), per queue, with the queue's name from
-- STV_WLM_SERVICE_CLASS_CONFIG.
-- Threshold: queries that queued 60 seconds or more.
SELECT w.service_class, trim(c.name) AS queue_name,
       count(*) AS queries_waiting_long,
       round(max(w.total_queue_time) / 1000000.0, 1) AS max_queue_seconds,
       round(avg(w.total_queue_time) / 1000000.0, 1) AS avg_queue_seconds
FROM stl_wlm_query AS w
LEFT JOIN stv_wlm_service_class_config AS c ON c.service_class = w.service_class
WHERE w.queue_start_time > getdate() - interval '1 hour'
  AND w.total_queue_time >= 60 * 1000000
GROUP BY w.service_class, c.name
ORDER BY max_queue_seconds DESC
