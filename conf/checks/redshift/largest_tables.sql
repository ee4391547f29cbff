-- Inventory: the 20 largest tables (SVV_TABLE_INFO, size in 1 MB blocks).
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- AWS: SVV_TABLE_INFO.
SELECT "schema", "table", size AS size_mb, pct_used, tbl_rows,
       diststyle, sortkey1, encoded, unsorted, stats_off, skew_rows
FROM svv_table_info
ORDER BY size DESC
LIMIT 20
