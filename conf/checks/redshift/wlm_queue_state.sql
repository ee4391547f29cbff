-- WLM queues (service classes) with many queries waiting now
-- (STV_WLM_SERVICE_CLASS_STATE), with the queue's name and slots from
-- STV_WLM_SERVICE_CLASS_CONFIG.  Under automatic WLM a queue has no fixed
-- slots (num_query_tasks is -1): slots is empty and wlm is 'auto'.
-- Threshold: 5 or more queued queries in a queue.
-- AWS: STV_WLM_SERVICE_CLASS_STATE; STV_WLM_SERVICE_CLASS_CONFIG.
SELECT s.service_class, trim(c.name) AS queue_name,
       CASE WHEN c.num_query_tasks = -1 THEN 'auto' ELSE 'manual' END AS wlm,
       CASE WHEN c.num_query_tasks >= 0 THEN c.num_query_tasks END AS slots,
       s.num_queued_queries, s.num_executing_queries, s.num_evicted_queries
FROM stv_wlm_service_class_state AS s
LEFT JOIN stv_wlm_service_class_config AS c ON c.service_class = s.service_class
WHERE s.num_queued_queries >= 5
ORDER BY s.num_queued_queries DESC
