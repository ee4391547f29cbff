-- Inventory: the 10 queries that ran longest in the last 24 hours (STL_QUERY).
SELECT q.query, q.userid, q.xid, q.pid, q.starttime,
       (extract(epoch FROM q.endtime) - extract(epoch FROM q.starttime))::decimal(18,1) AS seconds,
       q.aborted, trim(left(q.querytxt, 200)) AS query_text
FROM stl_query AS q
WHERE q.starttime > getdate() - interval '24 hours'
  AND q.userid > 1
ORDER BY extract(epoch FROM q.endtime) - extract(epoch FROM q.starttime) DESC
LIMIT 10
