-- Settings changed in the configuration files that only take effect after a
-- server restart (and are not in effect yet).
SELECT s.name, s.setting AS current_value, s.unit, s.context
FROM pg_settings AS s
WHERE s.pending_restart
ORDER BY s.name
