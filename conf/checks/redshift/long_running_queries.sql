-- Queries running for longer than a threshold (STV_RECENTS).
-- Threshold: 30 minutes.
SELECT r.pid, trim(r.user_name) AS user_name, trim(r.db_name) AS db_name,
       r.starttime,
       round(extract(epoch FROM getdate()) - extract(epoch FROM r.starttime)) AS seconds,
       trim(r.query) AS query
FROM stv_recents AS r
WHERE r.status = 'Running'
  AND r.starttime < getdate() - interval '30 minutes'
ORDER BY r.starttime
