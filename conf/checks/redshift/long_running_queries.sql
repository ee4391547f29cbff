-- Queries running for longer than a threshold (STV_RECENTS).
-- Threshold: 30 minutes.
-- AWS: STV_RECENTS; GETDATE; CONVERT_TIMEZONE.
SELECT r.pid, trim(r.user_name) AS user_name, trim(r.db_name) AS db_name,
       r.starttime,
       round(extract(epoch FROM convert_timezone(current_setting('timezone'), 'UTC', getdate()))
             - extract(epoch FROM r.starttime)) AS seconds,
       trim(r.query) AS query
FROM stv_recents AS r
WHERE r.status = 'Running'
  AND r.starttime < convert_timezone(current_setting('timezone'), 'UTC', getdate())
                    - interval '30 minutes'
ORDER BY r.starttime
