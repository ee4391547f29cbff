-- Many queries stopped before completion in the last hour (STL_QUERY
-- aborted = 1: cancelled by users, WLM timeouts or rules, or failures),
-- per user.
-- Threshold: 10 aborted queries per user in an hour.
SELECT q.userid, count(*) AS aborted_queries, max(q.starttime) AS last_start,
       max(q.query) AS sample_query
FROM stl_query AS q
WHERE q.aborted = 1
  AND q.starttime > getdate() - interval '1 hour'
GROUP BY q.userid
HAVING count(*) >= 10
ORDER BY aborted_queries DESC
