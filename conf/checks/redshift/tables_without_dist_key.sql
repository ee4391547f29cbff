-- Large tables distributed EVEN (round robin) by explicit choice: joins on
-- them redistribute data across the network.  Consider DISTSTYLE KEY on the
-- main join column, or AUTO.
-- Threshold: tables of 10 GB (10240 blocks) or more.
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- AWS: SVV_TABLE_INFO (diststyle).
SELECT "schema", "table", diststyle, size AS size_mb, tbl_rows
FROM svv_table_info
WHERE diststyle = 'EVEN'
  AND size >= 10240
ORDER BY size DESC
