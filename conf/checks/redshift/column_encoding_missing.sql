-- Tables with no compression encoding on any column, whose encoding nobody
-- manages (SVV_TABLE_INFO encoded = 'N'): more disk, more I/O.  ANALYZE
-- COMPRESSION suggests encodings.  Tables with ENCODE AUTO ('Y, AUTO(ENCODE)'
-- and 'N, AUTO(ENCODE)') are not findings: Redshift chooses and changes
-- their encodings itself, and 'N' there only means it has not yet.
-- Per database (scope = database): SVV_TABLE_INFO shows the connected
-- database's tables only.
-- Threshold: tables of 100 MB (100 blocks) or more.
-- AWS: SVV_TABLE_INFO (encoded); Compression encodings (ENCODE AUTO).
SELECT "schema", "table", encoded, size AS size_mb, tbl_rows
FROM svv_table_info
WHERE trim(encoded) = 'N'
  AND size >= 100
ORDER BY size DESC
