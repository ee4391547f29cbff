-- Disabled triggers (ALTER TABLE ... DISABLE TRIGGER) of the database
-- pghealthd connects to: user triggers, and the internal triggers that
-- enforce foreign keys (ALTER TABLE ... DISABLE TRIGGER ALL leaves them off).
SELECT n.nspname AS schema, c.relname AS table_name, t.tgname AS trigger_name,
       CASE WHEN t.tgconstraint <> 0 THEN 'constraint' ELSE 'user' END AS kind,
       pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger AS t
JOIN pg_class AS c ON c.oid = t.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE t.tgenabled = 'D'
  AND (NOT t.tgisinternal OR t.tgconstraint <> 0)
ORDER BY 1, 2, 3
