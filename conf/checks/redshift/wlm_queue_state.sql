-- WLM queues (service classes) with many queries waiting now
-- (STV_WLM_SERVICE_CLASS_STATE), with the queue's name and slots from
-- STV_WLM_SERVICE_CLASS_CONFIG.
-- Threshold: 5 or more queued queries in a queue.
SELECT s.service_class, trim(c.name) AS queue_name, c.num_query_tasks AS slots,
       s.num_queued_queries, s.num_executing_queries, s.num_evicted_queries
FROM stv_wlm_service_class_state AS s
LEFT JOIN stv_wlm_service_class_config AS c ON c.service_class = s.service_class
WHERE s.num_queued_queries >= 5
ORDER BY s.num_queued_queries DESC
