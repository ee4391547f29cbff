-- Queries of the last hour with steps that spilled to disk (hash, sort or
-- aggregate larger than the WLM slot's memory; SVL_QUERY_SUMMARY
-- is_diskbased): slow, and they eat disk space while they run.
SELECT q.query, q.userid, q.starttime,
       count(*) AS disk_based_steps,
       max(s.workmem) AS max_workmem_bytes,
       trim(left(q.querytxt, 200)) AS query_text
FROM svl_query_summary AS s
JOIN stl_query AS q ON q.query = s.query AND q.userid = s.userid
WHERE s.is_diskbased = 't'
  AND q.starttime > getdate() - interval '1 hour'
GROUP BY q.query, q.userid, q.starttime, q.querytxt
ORDER BY q.starttime DESC
