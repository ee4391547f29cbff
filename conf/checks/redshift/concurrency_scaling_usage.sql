-- Concurrency scaling clusters used for more than the free daily credit (one
-- hour a day accrues) in the last 24 hours (SVCS_CONCURRENCY_SCALING_USAGE):
-- the excess is billed.
-- Threshold: 3600 seconds in 24 hours.
SELECT sum(u.usage_in_seconds) AS usage_seconds, sum(u.queries) AS queries,
       count(*) AS usage_periods, min(u.start_time) AS first_start, max(u.end_time) AS last_end
FROM svcs_concurrency_scaling_usage AS u
WHERE u.end_time > getdate() - interval '24 hours'
HAVING sum(u.usage_in_seconds) >= 3600
