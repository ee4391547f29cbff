-- WAL archiving is failing now: the last failure is newer than the last
-- success (or nothing was ever archived).  Un-archived WAL stays in pg_wal
-- and point-in-time recovery has a gap.
SELECT a.failed_count, a.last_failed_wal, a.last_failed_time,
       a.archived_count, a.last_archived_wal, a.last_archived_time,
       now() - a.last_archived_time AS since_last_success,
       current_setting('archive_mode') AS archive_mode
FROM pg_stat_archiver AS a
WHERE current_setting('archive_mode') <> 'off'
  AND a.last_failed_time IS NOT NULL
  AND (a.last_archived_time IS NULL OR a.last_failed_time > a.last_archived_time)
