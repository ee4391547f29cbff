-- Tables whose rows are unevenly spread across slices (SVV_TABLE_INFO
-- skew_rows: rows on the fullest slice / rows on the emptiest): the slice
-- with most rows slows every query down.  Choose a better distribution key.
-- Thresholds: skew_rows >= 4 on tables of 1 GB (1024 blocks) or more.
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- AWS: SVV_TABLE_INFO (skew_rows).
SELECT "schema", "table", diststyle, size AS size_mb, tbl_rows, skew_rows
FROM svv_table_info
WHERE skew_rows >= 4
  AND size >= 1024
ORDER BY skew_rows DESC
