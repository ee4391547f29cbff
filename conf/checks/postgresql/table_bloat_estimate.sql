-- Tables (of the database pghealthd connects to) that take far more pages
-- than their rows need.  A cheap estimate from the catalog only (no table is
-- read): the expected size comes from reltuples and the average column widths
-- in pg_stats, with the tuple header, alignment, line pointers, page header
-- and fillfactor taken into account.  Tables without statistics on every
-- column (never analyzed) are skipped.  Accuracy is rough, typically within
-- 10-20 %.
-- Thresholds: pghealthd.table_bloat_estimate.min_bloat_bytes (bytes, default 100 MiB),
--             pghealthd.table_bloat_estimate.min_bloat_pct (percent of the table, default 50).
--
-- Privileges: pg_stats shows a column's statistics only to a role that may
-- SELECT the column (pg_read_all_data on PostgreSQL 14+), and none of a
-- table under row-level security unless the role bypasses it (BYPASSRLS);
-- pg_monitor is not enough.  So when the role cannot see the statistics of
-- a table big enough to reach min_bloat_bytes the check fails, its error
-- naming the tables and the GRANT (or ALTER ROLE) that fixes it, instead of
-- reporting them healthy: the query casts that message to integer, and the
-- server answers 'invalid input syntax for type integer: "pghealthd: missing
-- privilege: ..."'.  Smaller tables cannot be findings and never fail it.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.table_bloat_estimate.min_bloat_bytes', true), ''),
                    '104857600')::numeric AS min_bytes,
           coalesce(nullif(current_setting('pghealthd.table_bloat_estimate.min_bloat_pct', true), ''),
                    '50')::numeric AS min_pct,
           current_setting('block_size')::numeric AS bs
), tbl AS (
    SELECT c.oid, n.nspname, c.relname, c.relpages::numeric AS relpages, c.reltuples::numeric AS reltuples,
           coalesce((SELECT o.option_value::int FROM pg_options_to_table(c.reloptions) AS o
                     WHERE o.option_name = 'fillfactor'), 100) AS fillfactor,
           (SELECT count(*) FROM pg_attribute AS a
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS ncols
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm') AND c.relpages > 0 AND c.reltuples > 0
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
), hidden AS MATERIALIZED (
    -- The tables big enough to be reported whose statistics pg_stats hides
    -- from this role: a column it may not SELECT, or row-level security.
    SELECT t.nspname, t.relname,
           EXISTS (SELECT 1 FROM pg_attribute AS a
                   WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
                     AND NOT has_column_privilege(t.oid, a.attnum, 'SELECT')) AS no_select,
           c.relrowsecurity AND row_security_active(t.oid) AS rls
    FROM tbl AS t
    JOIN pg_class AS c ON c.oid = t.oid
    CROSS JOIN conf
    WHERE t.relpages * conf.bs >= conf.min_bytes
), blind AS (
    SELECT count(*) AS n,
           array_agg(format('%I.%I', h.nspname, h.relname) ORDER BY h.nspname, h.relname) AS names,
           string_agg(DISTINCT quote_ident(h.nspname), ', ') FILTER (WHERE h.no_select) AS schemas,
           bool_or(h.no_select) AS no_select, bool_or(h.rls) AS rls
    FROM hidden AS h
    WHERE h.no_select OR h.rls
), width AS (
    SELECT t.oid,
           count(*) AS ncols_with_stats,
           sum((1 - s.null_frac::numeric) * s.avg_width) AS data_width,
           max(s.null_frac) > 0 AS has_nulls
    FROM tbl AS t
    JOIN pg_stats AS s ON s.schemaname = t.nspname AND s.tablename = t.relname
                      AND NOT s.inherited
    GROUP BY t.oid
), est AS (
    SELECT t.nspname, t.relname, t.relpages, t.reltuples, t.fillfactor, conf.bs,
           -- heap tuple header (23 bytes) plus null bitmap, aligned to 8
           ceil((23 + CASE WHEN w.has_nulls THEN ceil(t.ncols / 8.0) ELSE 0 END) / 8.0) * 8
             + ceil(w.data_width / 8.0) * 8  -- data, aligned to 8
             + 4                              -- line pointer
             AS tuple_bytes
    FROM tbl AS t
    JOIN width AS w ON w.oid = t.oid AND w.ncols_with_stats = t.ncols
    CROSS JOIN conf
), pages AS (
    SELECT e.*,
           ceil(e.reltuples / greatest(floor((e.bs - 24) * e.fillfactor / 100 / e.tuple_bytes), 1))
             AS expected_pages
    FROM est AS e
)
SELECT p.nspname AS schema, p.relname AS table_name,
       p.relpages::bigint * p.bs::bigint AS size_bytes,
       ((p.relpages - p.expected_pages) * p.bs)::bigint AS bloat_bytes,
       pg_size_pretty(((p.relpages - p.expected_pages) * p.bs)::bigint) AS bloat,
       round(100 * (p.relpages - p.expected_pages) / p.relpages, 1) AS bloat_pct,
       p.reltuples::bigint AS estimated_rows
FROM pages AS p, conf
WHERE (p.relpages - p.expected_pages) * p.bs >= conf.min_bytes
  AND 100 * (p.relpages - p.expected_pages) / p.relpages >= conf.min_pct
ORDER BY bloat_bytes DESC
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN b.n > 0 THEN format(
               'pghealthd: missing privilege: table_bloat_estimate cannot see the statistics of %s %s (%s%s); %s',
               b.n, CASE WHEN b.n = 1 THEN 'table' ELSE 'tables' END,
               array_to_string(b.names[1:5], ', '), CASE WHEN b.n > 5 THEN ', ...' ELSE '' END,
               concat_ws('; ',
                   CASE WHEN b.no_select AND to_regrole('pg_read_all_data') IS NOT NULL
                        THEN format('GRANT pg_read_all_data TO %I', current_user)
                        WHEN b.no_select
                        THEN format('GRANT SELECT ON ALL TABLES IN SCHEMA %s TO %I',
                                    b.schemas, current_user) END,
                   CASE WHEN b.rls
                        THEN format('ALTER ROLE %I BYPASSRLS (row-level security)', current_user)
                   END))::int END
        FROM blind AS b)
