-- WAL piling up in pg_wal: more segments than the server means to keep
-- (max_ratio times max_wal_size, or min_wal_size when larger, plus
-- wal_keep_size), or a backlog of segments the archiver has not archived
-- yet (.ready files: archive_command failing or too slow).  Either fills
-- the disk under pg_wal, and then the server stops.  The row says what
-- keeps the WAL: the archiver's backlog, the replication slot retaining the
-- most, and how far behind it is.
-- Needs pg_monitor (pg_ls_waldir, pg_ls_archive_statusdir).
-- Thresholds: pghealthd.wal_pileup.max_ratio (default 2) and
-- pghealthd.wal_pileup.max_ready (segments waiting to be archived, default 16).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.wal_pileup.max_ratio', true), ''),
                    '2')::numeric AS max_ratio,
           coalesce(nullif(current_setting('pghealthd.wal_pileup.max_ready', true), ''),
                    '16')::bigint AS max_ready
), src AS (
    -- Built at run time: without the privilege the functions are never
    -- called, and the check fails naming the GRANT (the cast below).
    SELECT CASE WHEN has_function_privilege('pg_ls_waldir()', 'EXECUTE')
                 AND has_function_privilege('pg_ls_archive_statusdir()', 'EXECUTE')
           THEN 'SELECT count(*) AS wal_files, coalesce(sum(size), 0) AS wal_bytes,'
                || ' (SELECT count(*) FROM pg_ls_archive_statusdir()'
                || '  WHERE name LIKE ''%.ready'') AS ready_files,'
                || ' (SELECT min(modification) FROM pg_ls_archive_statusdir()'
                || '  WHERE name LIKE ''%.ready'') AS oldest_ready'
                || ' FROM pg_ls_waldir() WHERE name ~ ''^[0-9A-F]{24}$'''
           ELSE format('SELECT %L::int',
                       format('pghealthd: missing privilege: wal_pileup cannot list pg_wal and'
                              ' archive_status (pg_ls_waldir); GRANT pg_monitor TO %I',
                              current_user))
           END AS q
), w AS (
    SELECT x.wal_files, x.wal_bytes, x.ready_files, x.oldest_ready
    FROM src,
         XMLTABLE('/table/row' PASSING query_to_xml(src.q, false, false, '')
                  COLUMNS wal_files bigint PATH 'wal_files',
                          wal_bytes numeric PATH 'wal_bytes',
                          ready_files bigint PATH 'ready_files',
                          oldest_ready timestamptz PATH 'oldest_ready') AS x
), budget AS (
    SELECT greatest(pg_size_bytes(current_setting('max_wal_size')),
                    pg_size_bytes(current_setting('min_wal_size')))
           + coalesce(pg_size_bytes(nullif(current_setting('wal_keep_size', true), '')), 0)
           AS keep_bytes
), slot AS (
    SELECT s.slot_name, s.active,
           CASE WHEN pg_is_in_recovery() THEN NULL
                ELSE pg_current_wal_lsn() - s.restart_lsn END AS retained_bytes
    FROM pg_replication_slots AS s
    WHERE s.restart_lsn IS NOT NULL
    ORDER BY retained_bytes DESC NULLS LAST
    LIMIT 1
)
SELECT w.wal_files, pg_size_pretty(w.wal_bytes) AS wal_size,
       pg_size_pretty(budget.keep_bytes) AS wal_budget,
       w.ready_files, now() - w.oldest_ready AS oldest_ready_age,
       current_setting('archive_mode') AS archive_mode,
       (SELECT a.last_failed_wal FROM pg_stat_archiver AS a) AS last_failed_wal,
       slot.slot_name AS top_slot, slot.active AS top_slot_active,
       pg_size_pretty(slot.retained_bytes) AS top_slot_retained
FROM w, budget, conf
LEFT JOIN slot ON true
WHERE w.wal_bytes > conf.max_ratio * budget.keep_bytes
   OR w.ready_files >= conf.max_ready
