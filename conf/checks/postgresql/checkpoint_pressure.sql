-- Too many checkpoints are requested (WAL reached max_wal_size, or CHECKPOINT
-- was run) rather than timed (checkpoint_timeout): more I/O and more
-- full-page writes.  Read from pg_stat_checkpointer on PostgreSQL 17+ and
-- from pg_stat_bgwriter before; the view that does not exist on this server
-- is never referenced (the statement is built at run time).
-- Thresholds: pghealthd.checkpoint_pressure.max_requested_ratio (0..1, default 0.2),
--             pghealthd.checkpoint_pressure.min_checkpoints (default 20).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.checkpoint_pressure.max_requested_ratio', true), ''),
                    '0.2')::numeric AS max_ratio,
           coalesce(nullif(current_setting('pghealthd.checkpoint_pressure.min_checkpoints', true), ''),
                    '20')::bigint AS min_checkpoints
), src AS (
    SELECT CASE WHEN to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL
        THEN 'SELECT num_timed AS timed, num_requested AS requested, stats_reset'
             ' FROM pg_catalog.pg_stat_checkpointer'
        ELSE 'SELECT checkpoints_timed AS timed, checkpoints_req AS requested, stats_reset'
             ' FROM pg_catalog.pg_stat_bgwriter'
        END AS q
), c AS (
    SELECT x.timed, x.requested, x.stats_reset
    FROM src,
         XMLTABLE('/table/row' PASSING query_to_xml(src.q, false, false, '')
                  COLUMNS timed bigint PATH 'timed',
                          requested bigint PATH 'requested',
                          stats_reset timestamptz PATH 'stats_reset') AS x
)
SELECT c.timed, c.requested,
       round(c.requested::numeric / (c.timed + c.requested), 3) AS requested_ratio,
       current_setting('checkpoint_timeout') AS checkpoint_timeout,
       current_setting('max_wal_size') AS max_wal_size,
       c.stats_reset
FROM c, conf
WHERE c.timed + c.requested >= greatest(conf.min_checkpoints, 1)
  AND c.requested::numeric / (c.timed + c.requested) >= conf.max_ratio
