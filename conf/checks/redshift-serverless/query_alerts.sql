-- Optimizer alerts raised by query steps in the last 24 hours
-- (SYS_QUERY_DETAIL alert), grouped by alert and table.
-- AWS: SYS_QUERY_DETAIL; GETDATE; CONVERT_TIMEZONE.
SELECT trim(d.alert) AS alert, trim(d.table_name) AS table_name,
       count(DISTINCT d.query_id) AS queries, max(d.query_id) AS sample_query_id,
       max(d.start_time) AS last_seen
FROM sys_query_detail AS d
WHERE d.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
  AND d.alert IS NOT NULL
  AND trim(d.alert) <> ''
GROUP BY trim(d.alert), trim(d.table_name)
ORDER BY queries DESC
