-- Tables holding many tombstone blocks (SVV_DISKUSAGE): blocks of deleted
-- data kept because a transaction may still read them.  Long-running
-- transactions make them pile up and can fill the disks.
-- Threshold: 1000 tombstoned 1 MB blocks in a table.
-- AWS: SVV_DISKUSAGE.
SELECT d.db_id, d.tbl AS table_id, trim(d.name) AS table_name,
       count(*) AS tombstone_blocks
FROM svv_diskusage AS d
WHERE d.tombstone > 0
GROUP BY d.db_id, d.tbl, d.name
HAVING count(*) >= 1000
ORDER BY tombstone_blocks DESC
