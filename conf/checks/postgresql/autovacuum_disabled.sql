-- Autovacuum switched off: globally (autovacuum, track_counts) or for single
-- tables or their TOAST tables (autovacuum_enabled = false) of the database
-- pghealthd connects to.  Such tables are only vacuumed to prevent
-- wraparound, and never analyzed automatically.
SELECT 'setting' AS scope, s.name AS object, s.setting AS value
FROM pg_settings AS s
WHERE s.name IN ('autovacuum', 'track_counts') AND s.setting = 'off'
UNION ALL
SELECT CASE WHEN c.relkind = 't' THEN 'toast table' ELSE 'table' END,
       format('%I.%I', n.nspname, coalesce(owner.relname, c.relname)),
       array_to_string(c.reloptions, ', ')
FROM pg_class AS c
LEFT JOIN pg_class AS owner ON owner.reltoastrelid = c.oid
JOIN pg_namespace AS n ON n.oid = coalesce(owner.relnamespace, c.relnamespace)
WHERE c.relkind IN ('r', 'm', 't')
  AND EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) AS o
              WHERE o.option_name = 'autovacuum_enabled' AND NOT o.option_value::boolean)
ORDER BY 1, 2
