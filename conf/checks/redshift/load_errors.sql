-- COPY errors of the last 24 hours (STL_LOAD_ERRORS), newest first.
SELECT e.starttime, e.query, e.tbl AS table_id, trim(c.relname) AS table_name,
       trim(e.filename) AS filename, e.line_number, trim(e.colname) AS colname,
       trim(e.type) AS column_type, e.err_code, trim(e.err_reason) AS err_reason,
       trim(left(e.raw_field_value, 100)) AS raw_field_value
FROM stl_load_errors AS e
LEFT JOIN pg_class AS c ON c.oid = e.tbl
WHERE e.starttime > getdate() - interval '24 hours'
ORDER BY e.starttime DESC
