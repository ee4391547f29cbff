-- COPY errors of the last 24 hours (SYS_LOAD_ERROR_DETAIL, which covers
-- loads on the main and on concurrency scaling clusters, unlike
-- STL_LOAD_ERRORS), newest first.
-- Per database (scope = database): errors of loads issued in the connected
-- database, with the table's name from its pg_class.
-- AWS: SYS_LOAD_ERROR_DETAIL; GETDATE; CONVERT_TIMEZONE.
SELECT e.start_time, e.query_id, e.user_id, e.table_id, trim(c.relname) AS table_name,
       trim(e.file_name) AS file_name, e.line_number, trim(e.column_name) AS column_name,
       trim(e.column_type) AS column_type, e.error_code, trim(e.error_message) AS error_message
FROM sys_load_error_detail AS e
LEFT JOIN pg_class AS c ON c.oid = e.table_id
WHERE trim(e.database_name) = current_database()
  AND e.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
ORDER BY e.start_time DESC
