-- The statements that took the most execution time, from pg_stat_statements,
-- when that extension is installed in the database pghealthd connects to
-- and loaded (shared_preload_libraries); otherwise no rows and no error.
-- The statement is built at run time, so it works with the column names of
-- every version (total_time before PostgreSQL 13, total_exec_time after).
-- Setting: pghealthd.top_statements.limit (rows, default 10).
--
-- Privileges: pg_monitor.  Without it pg_settings hides
-- shared_preload_libraries (pg_read_all_settings) and pg_stat_statements
-- the other roles' statements (pg_read_all_stats), so where the extension is
-- installed the check fails, its error naming the GRANT, rather than show
-- nothing or only this role's statements.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.top_statements.limit', true), ''),
                    '10')::int AS lim
), hidden AS (
    -- Before PostgreSQL 15 membership in the predefined roles counts, from
    -- 15 on their privileges.
    SELECT count(*) AS n
    FROM pg_extension AS e,
         (SELECT CASE WHEN current_setting('server_version_num')::int >= 150000
                      THEN 'USAGE' ELSE 'MEMBER' END AS how) AS v
    WHERE e.extname = 'pg_stat_statements'
      AND NOT (pg_has_role('pg_read_all_settings', v.how)
               AND pg_has_role('pg_read_all_stats', v.how))
), ext AS (
    SELECT n.nspname,
           format('%I.pg_stat_statements', n.nspname)::regclass AS view_oid
    FROM pg_extension AS e
    JOIN pg_namespace AS n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_stat_statements'
      AND EXISTS (SELECT 1 FROM pg_settings AS s
                  WHERE s.name = 'shared_preload_libraries'
                    AND s.setting ~ '(^|[\s,"])pg_stat_statements($|[\s,"])')
), src AS (
    SELECT format(
        'SELECT r.rolname AS usename, d.datname, s.queryid, s.calls,'
        ' round(s.%1$I::numeric, 1) AS total_ms, round(s.%2$I::numeric, 3) AS mean_ms,'
        ' s.rows,'
        ' round(100.0 * s.shared_blks_hit / nullif(s.shared_blks_hit + s.shared_blks_read, 0), 1) AS hit_pct,'
        ' left(regexp_replace(s.query, ''[[:cntrl:]]+'', '' '', ''g''), 300) AS query'
        ' FROM %3$I.pg_stat_statements AS s'
        ' LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid'
        ' LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid'
        ' ORDER BY s.%1$I DESC LIMIT %4$s',
        CASE WHEN has_total_exec THEN 'total_exec_time' ELSE 'total_time' END,
        CASE WHEN has_total_exec THEN 'mean_exec_time' ELSE 'mean_time' END,
        ext.nspname, conf.lim) AS q
    FROM ext
    CROSS JOIN conf
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM pg_attribute AS a
                       WHERE a.attrelid = ext.view_oid AND a.attname = 'total_exec_time')
               AS has_total_exec) AS v
)
SELECT x.rank, x.usename, x.datname, x.queryid, x.calls, x.total_ms, x.mean_ms,
       x.rows, x.hit_pct, x.query
FROM src,
     XMLTABLE('/table/row' PASSING query_to_xml(src.q, false, false, '')
              COLUMNS rank FOR ORDINALITY,
                      usename text PATH 'usename',
                      datname text PATH 'datname',
                      queryid bigint PATH 'queryid',
                      calls bigint PATH 'calls',
                      total_ms numeric PATH 'total_ms',
                      mean_ms numeric PATH 'mean_ms',
                      rows bigint PATH 'rows',
                      hit_pct numeric PATH 'hit_pct',
                      query text PATH 'query') AS x
ORDER BY x.rank
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.n > 0 THEN format(
               'pghealthd: missing privilege: top_statements cannot see shared_preload_libraries'
               ' or the statements of other roles; GRANT pg_monitor TO %I',
               current_user)::int END
        FROM hidden AS h)
