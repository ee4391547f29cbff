-- Large tables without any sort key (neither a declared one nor
-- AUTO(SORTKEY)): every scan reads the whole table.
-- Threshold: tables of 10 GB (10240 blocks) or more.
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- AWS: SVV_TABLE_INFO (sortkey1).
SELECT "schema", "table", diststyle, size AS size_mb, tbl_rows
FROM svv_table_info
WHERE sortkey1 IS NULL
  AND size >= 10240
ORDER BY size DESC
