-- Tables (of the database pghealthd connects to) that take far more pages
-- than their rows need.  A cheap estimate from the catalog only (no table is
-- read): the expected size comes from reltuples and the average column widths
-- in pg_stats, with the tuple header, alignment, line pointers, page header
-- and fillfactor taken into account.  Tables without statistics on every
-- column (never analyzed, or columns the monitoring role may not read) are
-- skipped.  Accuracy is rough, typically within 10-20 %.
-- Thresholds: pghealthd.table_bloat_estimate.min_bloat_bytes (bytes, default 100 MiB),
--             pghealthd.table_bloat_estimate.min_bloat_pct (percent of the table, default 50).
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
