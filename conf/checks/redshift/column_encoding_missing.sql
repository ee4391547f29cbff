-- Tables with no compression encoding on any column (SVV_TABLE_INFO
-- encoded = 'N'): more disk, more I/O.  ANALYZE COMPRESSION suggests encodings.
-- Threshold: tables of 100 MB (100 blocks) or more.
SELECT "database", "schema", "table", encoded, size AS size_mb, tbl_rows
FROM svv_table_info
WHERE encoded = 'N'
  AND size >= 100
ORDER BY size DESC
