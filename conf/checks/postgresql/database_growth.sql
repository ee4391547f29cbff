-- Databases growing fast, or too large: grown by min_growth_pct and
-- min_growth_bytes since this check's previous run (sizes kept by state_sql
-- in postgresql.ini), or larger than max_bytes when that is set.  A sudden
-- growth (a runaway job, a bloating queue table) fills the disk long before
-- a fixed size limit is reached; database_sizes lists every size.
-- Thresholds: pghealthd.database_growth.min_growth_pct (default 20),
-- pghealthd.database_growth.min_growth_bytes (default 100 MiB) and
-- pghealthd.database_growth.max_bytes (default 0: no size limit).
-- Privileges: as database_sizes (CONNECT on each database, or pg_monitor);
-- a database it cannot measure makes it fail, naming it and the GRANT.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.database_growth.min_growth_pct', true), ''),
                    '20')::numeric AS min_pct,
           coalesce(nullif(current_setting('pghealthd.database_growth.min_growth_bytes', true), ''),
                    '104857600')::numeric AS min_bytes,
           coalesce(nullif(current_setting('pghealthd.database_growth.max_bytes', true), ''),
                    '0')::numeric AS max_bytes
), prev AS (
    SELECT to_timestamp((p ->> 'at')::float8) AS at, p -> 'db' AS db
    FROM (SELECT nullif(current_setting('pghealthd.previous', true), '')::json AS p) AS x
    WHERE p IS NOT NULL
), db AS (
    SELECT d.oid, d.datname, has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats',
               CASE WHEN current_setting('server_version_num')::int >= 150000 THEN 'USAGE' ELSE 'MEMBER' END) AS ok
    FROM pg_database AS d WHERE d.datallowconn
), m AS (
    SELECT db.datname, pg_database_size(db.oid)::numeric AS bytes,
           (prev.db ->> db.datname)::numeric AS before, prev.at
    FROM db LEFT JOIN prev ON true
    WHERE db.ok
)
SELECT m.datname, pg_size_pretty(m.bytes) AS size, pg_size_pretty(m.before) AS size_before,
       pg_size_pretty(m.bytes - m.before) AS growth, m.at AS since, m.bytes
FROM m, conf
WHERE (m.before IS NOT NULL AND m.bytes - m.before >= conf.min_bytes
       AND m.bytes - m.before >= m.before * conf.min_pct / 100)
   OR (conf.max_bytes > 0 AND m.bytes > conf.max_bytes)
ORDER BY m.bytes - coalesce(m.before, m.bytes) DESC, m.datname
OFFSET (SELECT CASE WHEN count(*) > 0 THEN format(
               'pghealthd: missing privilege: database_growth cannot measure %s; GRANT pg_monitor TO %I',
               string_agg(quote_ident(db.datname), ', ' ORDER BY db.datname), current_user)::int END
        FROM db WHERE NOT db.ok)
