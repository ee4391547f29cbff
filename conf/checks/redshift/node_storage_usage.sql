-- Nodes using most of their provisioned storage (STV_NODE_STORAGE_CAPACITY,
-- 1 MB blocks; on RA3 the used blocks include those kept in Amazon S3).
-- Threshold: 80 % used.
-- AWS: STV_NODE_STORAGE_CAPACITY.
SELECT node, used AS used_mb, capacity AS capacity_mb,
       round(100.0 * used / capacity, 1) AS pct_used
FROM stv_node_storage_capacity
WHERE capacity > 0
  AND 100.0 * used / capacity >= 80
ORDER BY pct_used DESC
