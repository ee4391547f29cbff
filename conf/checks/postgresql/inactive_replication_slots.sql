-- Replication slots that no consumer is using, with the WAL they force the
-- server to keep (pg_wal grows until the disk is full) and the xmin they
-- hold back (VACUUM cannot remove dead rows).
-- Threshold: pghealthd.inactive_replication_slots.min_retained_bytes
--            (bytes, default 0: every inactive slot).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.inactive_replication_slots.min_retained_bytes', true), ''),
                    '0')::numeric AS min_bytes
), cur AS (
    SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                ELSE pg_current_wal_lsn() END AS lsn
)
SELECT s.slot_name, s.slot_type, s.plugin, s.database, s.temporary,
       pg_wal_lsn_diff(cur.lsn, s.restart_lsn) AS retained_wal_bytes,
       pg_size_pretty(pg_wal_lsn_diff(cur.lsn, s.restart_lsn)) AS retained_wal,
       age(s.xmin) AS xmin_age, age(s.catalog_xmin) AS catalog_xmin_age
FROM pg_replication_slots AS s, cur, conf
WHERE NOT s.active
  AND coalesce(pg_wal_lsn_diff(cur.lsn, s.restart_lsn), 0) >= conf.min_bytes
ORDER BY retained_wal_bytes DESC NULLS LAST
