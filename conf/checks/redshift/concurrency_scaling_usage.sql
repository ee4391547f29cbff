-- Concurrency scaling spending its free credit faster than it accrues
-- (SVCS_CONCURRENCY_SCALING_USAGE).  A cluster accrues one hour of free
-- concurrency scaling credit for every 24 hours it runs and carries up to 30
-- hours over; only usage beyond the balance is billed, per second.  The
-- balance itself is not in any system table, so 3,600 seconds in a day is
-- not necessarily billed: this check finds days that use more than a day
-- accrues (the balance shrinks; billing starts once it is spent), and gives
-- a lower bound of the seconds billed in the last 7 days: usage beyond the
-- most the balance can have held (30 hours carried in plus 7 accrued).
-- Threshold: more than 3600 seconds in the last 24 hours.
-- AWS: SVCS_CONCURRENCY_SCALING_USAGE; Concurrency scaling (billing and
-- credits); GETDATE; CONVERT_TIMEZONE.
WITH u AS (
    SELECT c.start_time, c.end_time, c.queries, c.usage_in_seconds,
           c.end_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                        - interval '24 hours' AS last_day
    FROM svcs_concurrency_scaling_usage AS c
    WHERE c.end_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                       - interval '7 days'
)
SELECT sum(CASE WHEN u.last_day THEN u.usage_in_seconds ELSE 0 END) AS usage_seconds_24h,
       sum(CASE WHEN u.last_day THEN u.queries ELSE 0 END) AS queries_24h,
       sum(u.usage_in_seconds) AS usage_seconds_7d,
       greatest(sum(u.usage_in_seconds) - (30 + 7) * 3600, 0) AS billed_seconds_7d_at_least,
       min(u.start_time) AS first_start_7d, max(u.end_time) AS last_end
FROM u
HAVING sum(CASE WHEN u.last_day THEN u.usage_in_seconds ELSE 0 END) > 3600
