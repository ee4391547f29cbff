-- Queries that failed because a disk was full, in the last 24 hours
-- (STL_DISK_FULL_DIAG; currenttime counts microseconds since 2000-01-01).
-- AWS: STL_DISK_FULL_DIAG; GETDATE; CONVERT_TIMEZONE.
SELECT '2000-01-01'::timestamp + (currenttime / 1000000.0) * interval '1 second' AS error_time,
       node_num, query_id, temp_blocks
FROM stl_disk_full_diag
WHERE '2000-01-01'::timestamp + (currenttime / 1000000.0) * interval '1 second'
      > convert_timezone(current_setting('timezone'), 'UTC', getdate()) - interval '24 hours'
ORDER BY error_time DESC
