-- How far the oldest open DML transaction lags behind the newest commit, in
-- transaction IDs (STL_COMMIT_STATS: xid of the commit and oldestxid, the
-- oldest active DML transaction at that time).  Deleted rows newer than the
-- oldest open transaction cannot be reclaimed.
-- Threshold: 10 000 000 transactions.
-- AWS: STL_COMMIT_STATS.
SELECT c.xid AS newest_commit_xid, c.oldestxid, c.xid - c.oldestxid AS xid_age,
       c.numxids AS active_dml_transactions, c.endtime AS seen_at
FROM stl_commit_stats AS c
WHERE c.node = -1
  AND c.oldestxid > 0
  AND c.endtime = (SELECT max(endtime) FROM stl_commit_stats WHERE node = -1)
  AND c.xid - c.oldestxid >= 10000000
