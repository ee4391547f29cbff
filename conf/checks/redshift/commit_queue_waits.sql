-- Commits of the last hour that waited long in the commit queue
-- (STL_COMMIT_STATS, leader node rows): too many small transactions commit
-- at once.  Batch the writes.
-- Threshold: 30 seconds between entering the queue and starting the commit.
-- AWS: STL_COMMIT_STATS; GETDATE; CONVERT_TIMEZONE.
SELECT c.xid, c.startqueue, c.startwork, c.endtime, c.queuelen
FROM stl_commit_stats AS c
WHERE c.node = -1
  AND c.startqueue > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '1 hour'
  AND c.startwork > c.startqueue + interval '30 seconds'
ORDER BY c.startqueue DESC
