-- Query monitoring rules that fired in the last 24 hours
-- (STL_WLM_RULE_ACTION): queries logged, hopped or aborted by a WLM rule,
-- grouped by rule and action.
-- AWS: STL_WLM_RULE_ACTION; GETDATE; CONVERT_TIMEZONE.
SELECT trim(a.rule) AS rule, trim(a.action) AS action, a.service_class,
       trim(a.service_class_name) AS queue_name,
       count(*) AS actions, max(a.recordtime) AS last_action, max(a.query) AS sample_query
FROM stl_wlm_rule_action AS a
WHERE a.recordtime > convert_timezone(current_setting('timezone'), 'UTC', getdate())
                     - interval '24 hours'
  AND trim(a.action) <> 'none'
GROUP BY 1, 2, 3, 4
ORDER BY actions DESC
