-- Tables whose planner statistics are stale (SVV_TABLE_INFO stats_off: 0 is
-- current, 100 is out of date).  Run ANALYZE.
-- Thresholds: stats_off >= 10 on tables of 1 000 000 rows or more.
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- AWS: SVV_TABLE_INFO (stats_off).
SELECT "schema", "table", tbl_rows, stats_off
FROM svv_table_info
WHERE stats_off >= 10
  AND tbl_rows >= 1000000
ORDER BY stats_off DESC, tbl_rows DESC
