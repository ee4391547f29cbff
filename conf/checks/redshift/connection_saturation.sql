-- Open sessions close to the cluster's connection limit (STV_SESSIONS, one
-- row per open session).  The limit depends on the node type ("Quotas and
-- limits in Amazon Redshift", Connections): 2,000 on ra3.xlplus,
-- ra3.4xlarge, ra3.16xlarge and dc2.8xlarge, 500 on dc2.large and
-- ra3.large.  No system table says which node type a cluster has, and
-- Redshift has no custom session parameters (current_setting with
-- missing_ok), so the limit is a constant: edit max_connections in a copy of
-- this file for a 500-connection node type.
-- Thresholds: max_connections 2000, ratio 0.9 (a finding from 1800 sessions).
-- AWS: STV_SESSIONS; Quotas and limits in Amazon Redshift.
WITH conf AS (
    SELECT 2000 AS max_connections, 0.9 AS ratio
)
SELECT count(*) AS sessions, conf.max_connections,
       round(100.0 * count(*) / conf.max_connections, 1) AS pct_of_limit,
       count(DISTINCT s.user_name) AS users,
       min(s.starttime) AS oldest_session_start
FROM stv_sessions AS s
CROSS JOIN conf
GROUP BY conf.max_connections, conf.ratio
HAVING count(*) >= conf.ratio * conf.max_connections
