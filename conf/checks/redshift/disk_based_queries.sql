-- Queries of the last hour with steps that spilled to disk (hash, sort or
-- aggregate larger than the memory they had; SYS_QUERY_DETAIL
-- spilled_block_local_disk and spilled_block_remote_disk, in 1 MB blocks),
-- on the main and on concurrency scaling clusters: slow, and they take disk
-- space while they run.  System queries (user 1) are left out.
-- AWS: SYS_QUERY_DETAIL; SYS_QUERY_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT q.query_id, q.user_id, trim(q.database_name) AS database_name, q.start_time,
       trim(q.compute_type) AS compute_type, count(*) AS spilling_steps,
       sum(d.spilled_block_local_disk) AS spilled_local_mb,
       sum(d.spilled_block_remote_disk) AS spilled_remote_mb,
       trim(left(q.query_text, 200)) AS query_text
FROM sys_query_detail AS d
JOIN sys_query_history AS q ON q.query_id = d.query_id
WHERE (d.spilled_block_local_disk > 0 OR d.spilled_block_remote_disk > 0)
  AND q.user_id > 1
  AND q.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
GROUP BY q.query_id, q.user_id, q.database_name, q.start_time, q.compute_type, q.query_text
ORDER BY q.start_time DESC
