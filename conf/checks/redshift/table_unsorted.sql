-- Tables with a large unsorted region (SVV_TABLE_INFO unsorted, percent):
-- range-restricted scans read more blocks.  VACUUM SORT ONLY or let
-- automatic vacuum sort catch up.
-- Thresholds: 20 % unsorted on tables of 1 GB (1024 blocks) or more.
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- AWS: SVV_TABLE_INFO (unsorted).
SELECT "schema", "table", sortkey1, size AS size_mb, tbl_rows, unsorted
FROM svv_table_info
WHERE unsorted >= 20
  AND size >= 1024
ORDER BY size * unsorted DESC
