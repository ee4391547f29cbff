-- Optimizer alerts of the last 24 hours (STL_ALERT_EVENT_LOG), grouped:
-- missing statistics, nested loop joins, very selective filters, large
-- broadcasts or redistributions, scans of deleted rows.  Each row has the
-- suggested solution and a sample query ID.
SELECT trim(split_part(a.event, ':', 1)) AS event,
       trim(a.solution) AS solution,
       count(DISTINCT a.query) AS queries,
       max(a.query) AS sample_query,
       max(a.event_time) AS last_seen
FROM stl_alert_event_log AS a
WHERE a.event_time > getdate() - interval '24 hours'
  AND a.userid > 1
GROUP BY 1, 2
ORDER BY queries DESC
