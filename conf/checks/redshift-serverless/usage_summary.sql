-- Inventory: compute and storage of the last 24 hours (SYS_SERVERLESS_USAGE,
-- one row per minute): billed RPU-hours, peak and average capacity, and the
-- storage used in the newest interval.
-- AWS: SYS_SERVERLESS_USAGE; GETDATE; CONVERT_TIMEZONE.
WITH w AS (
    SELECT u.start_time, u.end_time, u.compute_seconds, u.compute_capacity,
           u.data_storage, u.charged_seconds
    FROM sys_serverless_usage AS u
    WHERE u.end_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                       - interval '24 hours'
), newest AS (
    SELECT w.data_storage FROM w ORDER BY w.end_time DESC LIMIT 1
)
SELECT round(sum(w.charged_seconds) / 3600.0, 2) AS charged_rpu_hours,
       (sum(w.compute_seconds) / 3600)::decimal(18,2) AS compute_rpu_hours,
       max(w.compute_capacity) AS peak_rpus,
       avg(w.compute_capacity)::decimal(18,1) AS avg_rpus,
       newest.data_storage AS data_storage_mb,
       min(w.start_time) AS window_start, max(w.end_time) AS window_end
FROM w
CROSS JOIN newest
GROUP BY newest.data_storage
