-- Nodes whose disks are filling up (STV_PARTITIONS, in 1 MB blocks): used
-- minus tossed blocks (blocks ready to be freed), over the capacity, as
-- AWS's own STV_PARTITIONS example computes it.  The raw capacity includes
-- space Redshift reserves, so the percentage is lower than the console's
-- "Percentage of disk space used".  On RA3 nodes this is the local cache;
-- see node_storage_usage for managed storage.
-- Threshold: 80 % used.
-- AWS: STV_PARTITIONS.
SELECT owner AS node,
       sum(used - tossed) AS used_mb,
       sum(capacity) AS capacity_mb,
       round(100.0 * sum(used - tossed) / sum(capacity), 1) AS pct_used
FROM stv_partitions
WHERE part_begin = 0
GROUP BY owner
HAVING sum(capacity) > 0
   AND 100.0 * sum(used - tossed) / sum(capacity) >= 80
ORDER BY pct_used DESC
