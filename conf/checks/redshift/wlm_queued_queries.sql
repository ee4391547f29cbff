-- Queries waiting in a WLM queue right now for longer than a threshold
-- (STV_WLM_QUERY_STATE; times in microseconds): the queue has too few slots
-- or too much work.
-- Threshold: 60 seconds in the queue.
-- AWS: STV_WLM_QUERY_STATE.
SELECT q.service_class, q.query, q.xid, trim(q.state) AS state, q.slot_count,
       q.wlm_start_time, round(q.queue_time / 1000000.0, 1) AS queue_seconds,
       trim(q.query_priority) AS query_priority
FROM stv_wlm_query_state AS q
WHERE q.state LIKE 'Queued%'
  AND q.queue_time > 60 * 1000000
ORDER BY q.queue_time DESC
