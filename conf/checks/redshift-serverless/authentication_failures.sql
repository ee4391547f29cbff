-- Repeated failed logins in the last hour (SYS_CONNECTION_LOG), per user and
-- remote host: a misconfigured client or someone guessing passwords.
-- Threshold: 5 failures from the same user and host.
-- AWS: SYS_CONNECTION_LOG; GETDATE; CONVERT_TIMEZONE.
SELECT trim(c.user_name) AS user_name, trim(c.remote_host) AS remote_host,
       count(*) AS failures, max(c.record_time) AS last_failure,
       max(trim(c.auth_method)) AS auth_method
FROM sys_connection_log AS c
WHERE c.event LIKE 'authentication failure%'
  AND c.record_time > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                      - interval '1 hour'
GROUP BY trim(c.user_name), trim(c.remote_host)
HAVING count(*) >= 5
ORDER BY failures DESC
