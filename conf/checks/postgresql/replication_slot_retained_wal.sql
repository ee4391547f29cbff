-- Replication slots, active or not, that keep a lot of WAL: a consumer that
-- falls behind fills pg_wal (see also max_slot_wal_keep_size).
-- Threshold: pghealthd.replication_slot_retained_wal.max_bytes (bytes, default 10 GiB).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.replication_slot_retained_wal.max_bytes', true), ''),
                    '10737418240')::numeric AS max_bytes
), cur AS (
    SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                ELSE pg_current_wal_lsn() END AS lsn
)
SELECT s.slot_name, s.slot_type, s.active, s.active_pid,
       pg_wal_lsn_diff(cur.lsn, s.restart_lsn) AS retained_wal_bytes,
       pg_size_pretty(pg_wal_lsn_diff(cur.lsn, s.restart_lsn)) AS retained_wal,
       current_setting('max_slot_wal_keep_size', true) AS max_slot_wal_keep_size
FROM pg_replication_slots AS s, cur, conf
WHERE pg_wal_lsn_diff(cur.lsn, s.restart_lsn) > conf.max_bytes
ORDER BY retained_wal_bytes DESC
