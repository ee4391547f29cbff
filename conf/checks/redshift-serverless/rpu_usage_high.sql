-- Billed compute in the last 24 hours above a budget (SYS_SERVERLESS_USAGE
-- charged_seconds, RPU-seconds).  Set the threshold to your daily budget;
-- usage limits in the Redshift console can also cap it.
-- Threshold: 100 RPU-hours in 24 hours.
-- AWS: SYS_SERVERLESS_USAGE; GETDATE; CONVERT_TIMEZONE.
SELECT round(sum(u.charged_seconds) / 3600.0, 2) AS charged_rpu_hours,
       max(u.compute_capacity) AS peak_rpus,
       min(u.start_time) AS window_start, max(u.end_time) AS window_end
FROM sys_serverless_usage AS u
WHERE u.end_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                   - interval '24 hours'
HAVING sum(u.charged_seconds) >= 100 * 3600
