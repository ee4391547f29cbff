-- Many transactions rolled back in the last hour (SYS_TRANSACTION_HISTORY
-- status 'rolledback'): errors, serializable isolation conflicts or
-- applications that roll back by habit, per user.
-- Threshold: 20 rollbacks per user.
-- AWS: SYS_TRANSACTION_HISTORY; GETDATE; CONVERT_TIMEZONE.
SELECT t.user_id, count(*) AS rolled_back, max(t.transaction_start_time) AS last_start,
       max(t.transaction_id) AS sample_transaction_id
FROM sys_transaction_history AS t
WHERE t.status = 'rolledback'
  AND t.transaction_start_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                                 - interval '1 hour'
GROUP BY t.user_id
HAVING count(*) >= 20
ORDER BY rolled_back DESC
