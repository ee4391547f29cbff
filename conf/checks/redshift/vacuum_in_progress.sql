-- A VACUUM is running now (SVV_VACUUM_PROGRESS shows the current or the last
-- vacuum): it uses I/O and memory, and another VACUUM waits for it.
-- AWS: SVV_VACUUM_PROGRESS.
SELECT trim(v.table_name) AS table_name, trim(v.status) AS status,
       trim(v.time_remaining_estimate) AS time_remaining_estimate
FROM svv_vacuum_progress AS v
WHERE v.status NOT LIKE 'Complete%'
  AND v.status NOT LIKE 'Skipped%'
  AND v.status NOT LIKE 'Failed%'
