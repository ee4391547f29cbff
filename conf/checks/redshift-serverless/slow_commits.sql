-- Commits of the last hour that took long (SYS_TRANSACTION_HISTORY, from the
-- start to the end of the commit): commit queueing from many concurrent
-- small writes, or very large commits.  commit_seconds is in whole seconds:
-- EXTRACT(epoch) of a timestamp is an integer on Redshift.
-- Threshold: 30 seconds.
-- AWS: SYS_TRANSACTION_HISTORY; EXTRACT; GETDATE; CONVERT_TIMEZONE.
SELECT t.transaction_id, t.user_id, t.transaction_start_time, t.commit_start_time,
       t.commit_end_time, t.blocks_committed,
       round(extract(epoch FROM t.commit_end_time) - extract(epoch FROM t.commit_start_time))
           AS commit_seconds
FROM sys_transaction_history AS t
WHERE t.commit_start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                            - interval '1 hour'
  AND t.commit_end_time > t.commit_start_time + interval '30 seconds'
ORDER BY commit_seconds DESC
