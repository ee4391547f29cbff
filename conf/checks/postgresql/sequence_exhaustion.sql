-- Sequences (of the database pghealthd connects to) that have used most of
-- their range.  The limit is the sequence's own MAXVALUE (MINVALUE for
-- descending ones) or, when it is smaller, the range of the integer column
-- that owns it (a bigint sequence behind an integer column fails at 2^31).
-- Cycling sequences and sequences never used are left out.
-- Threshold: pghealthd.sequence_exhaustion.max_pct (percent used, default 75).
--
-- Privileges: reading a sequence's value takes SELECT or USAGE on it
-- (pg_read_all_data on PostgreSQL 14+); pg_monitor is not enough, and
-- pg_sequences shows a NULL last_value, like a sequence never used, for the
-- others.  So when the role cannot read some sequences the check fails, its
-- error naming them and the GRANT that fixes it, instead of reporting them
-- healthy: the query casts that message to integer, and the server answers
-- 'invalid input syntax for type integer: "pghealthd: missing privilege: ..."'.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.sequence_exhaustion.max_pct', true), ''),
                    '75')::numeric AS max_pct
), seq AS (
    SELECT s.schemaname, s.sequencename, s.data_type, s.increment_by,
           s.min_value, s.max_value, s.last_value,
           col.attrelid::regclass::text AS owned_by_table, col.attname AS owned_by_column,
           CASE col.atttypid WHEN 'int2'::regtype THEN 32767
                             WHEN 'int4'::regtype THEN 2147483647 END AS col_max,
           CASE col.atttypid WHEN 'int2'::regtype THEN -32768
                             WHEN 'int4'::regtype THEN -2147483648 END AS col_min
    FROM pg_sequences AS s
    JOIN pg_namespace AS n ON n.nspname = s.schemaname
    JOIN pg_class AS c ON c.relnamespace = n.oid AND c.relname = s.sequencename
    LEFT JOIN pg_depend AS d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                            AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                            AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_attribute AS col ON col.attrelid = d.refobjid AND col.attnum = d.refobjsubid
    WHERE NOT s.cycle AND s.last_value IS NOT NULL
), lim AS (
    SELECT seq.*,
           CASE WHEN increment_by > 0 THEN least(max_value, coalesce(col_max, max_value))
                ELSE greatest(min_value, coalesce(col_min, min_value)) END AS limit_value
    FROM seq
), pct AS (
    SELECT lim.*,
           CASE WHEN increment_by > 0
                THEN 100.0 * (last_value::numeric - min_value) / nullif(limit_value::numeric - min_value, 0)
                ELSE 100.0 * (max_value::numeric - last_value) / nullif(max_value::numeric - limit_value, 0)
           END AS pct_used
    FROM lim
), blind AS (
    -- The sequences the check should read but cannot (those of other
    -- sessions' temporary schemas are not in pg_sequences either).
    SELECT count(*) AS n,
           array_agg(format('%I.%I', n.nspname, c.relname) ORDER BY n.nspname, c.relname) AS names,
           string_agg(DISTINCT quote_ident(n.nspname), ', ') AS schemas
    FROM pg_sequence AS q
    JOIN pg_class AS c ON c.oid = q.seqrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE NOT q.seqcycle
      AND NOT pg_is_other_temp_schema(n.oid)
      AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'SELECT,USAGE') END
)
SELECT p.schemaname AS schema, p.sequencename AS sequence_name, p.data_type,
       p.last_value, p.limit_value, round(p.pct_used, 1) AS pct_used,
       trunc((p.limit_value::numeric - p.last_value) / p.increment_by) AS values_left,
       p.owned_by_table, p.owned_by_column
FROM pct AS p, conf
WHERE p.pct_used >= conf.max_pct
ORDER BY p.pct_used DESC
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN b.n > 0 THEN format(
               'pghealthd: missing privilege: sequence_exhaustion cannot read %s %s (%s%s); %s',
               b.n, CASE WHEN b.n = 1 THEN 'sequence' ELSE 'sequences' END,
               array_to_string(b.names[1:5], ', '), CASE WHEN b.n > 5 THEN ', ...' ELSE '' END,
               CASE WHEN to_regrole('pg_read_all_data') IS NOT NULL
                    THEN format('GRANT pg_read_all_data TO %I', current_user)
                    ELSE format('GRANT SELECT ON ALL SEQUENCES IN SCHEMA %s TO %I',
                                b.schemas, current_user) END)::int END
        FROM blind AS b)
