-- Settings changed in the configuration files that only take effect after a
-- server restart (and are not in effect yet).
--
-- Privileges: pg_monitor.  Without it (pg_read_all_settings) pg_settings
-- leaves out the superuser-only settings, shared_preload_libraries among
-- them, so the check fails, its error naming the GRANT, rather than report
-- no restart pending.
WITH hidden AS (
    -- Before PostgreSQL 15 membership in pg_read_all_settings counts, from
    -- 15 on its privileges.
    SELECT NOT pg_has_role('pg_read_all_settings',
                           CASE WHEN current_setting('server_version_num')::int >= 150000
                                THEN 'USAGE' ELSE 'MEMBER' END) AS settings
)
SELECT s.name, s.setting AS current_value, s.unit, s.context
FROM pg_settings AS s
WHERE s.pending_restart
ORDER BY s.name
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.settings THEN format(
               'pghealthd: missing privilege: settings_pending_restart cannot see the'
               ' superuser-only settings (shared_preload_libraries, ...); GRANT pg_monitor TO %I',
               current_user)::int END
        FROM hidden AS h)
