-- Optimizer alerts raised by query steps in the last 24 hours (missing
-- statistics, nested loop joins, very selective filters, large broadcasts or
-- redistributions, scans of deleted rows), on the main and on concurrency
-- scaling clusters (SYS_QUERY_DETAIL alert; STL_ALERT_EVENT_LOG, which also
-- suggests a solution, covers the main cluster only), grouped by alert and
-- table.  System queries (user 1) are left out.
-- AWS: SYS_QUERY_DETAIL; Reviewing query alerts; GETDATE; CONVERT_TIMEZONE.
SELECT trim(d.alert) AS alert, trim(d.table_name) AS table_name,
       count(DISTINCT d.query_id) AS queries, max(d.query_id) AS sample_query_id,
       max(d.start_time) AS last_seen
FROM sys_query_detail AS d
WHERE d.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
  AND d.user_id > 1
  AND d.alert IS NOT NULL
  AND trim(d.alert) <> ''
GROUP BY trim(d.alert), trim(d.table_name)
ORDER BY queries DESC
