-- Open sessions close to the cluster's connection limit (STV_SESSIONS).
-- The limit depends on the node type (500 on most provisioned clusters);
-- adjust the threshold to 90 % of yours.
-- Threshold: 450 sessions.
SELECT count(*) AS sessions,
       count(DISTINCT user_name) AS users,
       min(starttime) AS oldest_session_start
FROM stv_sessions
HAVING count(*) >= 450
