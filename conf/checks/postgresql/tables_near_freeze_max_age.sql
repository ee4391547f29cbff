-- Tables (of the database pghealthd connects to) whose relfrozenxid age, or
-- that of their TOAST table, has passed their effective
-- autovacuum_freeze_max_age (the table's own setting when it has one): an
-- anti-wraparound vacuum is due or running.  A table that stays here means
-- that vacuum cannot keep up or is being blocked.
-- Threshold: pghealthd.tables_near_freeze_max_age.min_ratio (fraction of the
-- effective autovacuum_freeze_max_age, default 1.0; 0.9 warns earlier).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.tables_near_freeze_max_age.min_ratio', true), ''),
                    '1.0')::numeric AS min_ratio,
           current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age
), t AS (
    SELECT n.nspname AS schema, c.relname AS table_name, c.relpersistence,
           greatest(age(c.relfrozenxid), coalesce(age(tc.relfrozenxid), 0)) AS xid_age,
           least(conf.freeze_max_age,
                 coalesce((SELECT o.option_value::bigint FROM pg_options_to_table(c.reloptions) AS o
                           WHERE o.option_name = 'autovacuum_freeze_max_age'), conf.freeze_max_age))
               AS freeze_max_age,
           s.last_vacuum, s.last_autovacuum,
           pg_size_pretty(c.relpages::bigint * current_setting('block_size')::int) AS estimated_size,
           conf.min_ratio
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_class AS tc ON tc.oid = c.reltoastrelid
    LEFT JOIN pg_stat_all_tables AS s ON s.relid = c.oid
    CROSS JOIN conf
    WHERE c.relkind IN ('r', 'm')
)
SELECT schema, table_name, xid_age, freeze_max_age,
       round(100.0 * xid_age / freeze_max_age, 1) AS pct_of_freeze_max_age,
       relpersistence = 't' AS temporary, last_vacuum, last_autovacuum, estimated_size
FROM t
WHERE xid_age > min_ratio * freeze_max_age
ORDER BY xid_age DESC
