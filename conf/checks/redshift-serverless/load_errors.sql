-- COPY errors of the last 24 hours (SYS_LOAD_ERROR_DETAIL), newest first.
-- AWS: SYS_LOAD_ERROR_DETAIL; GETDATE; CONVERT_TIMEZONE.
SELECT e.start_time, e.query_id, trim(e.database_name) AS database_name, e.table_id,
       trim(e.file_name) AS file_name, e.line_number, trim(e.column_name) AS column_name,
       trim(e.column_type) AS column_type, e.error_code, trim(e.error_message) AS error_message
FROM sys_load_error_detail AS e
WHERE e.start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
ORDER BY e.start_time DESC
