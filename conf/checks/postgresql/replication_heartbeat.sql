-- The replication heartbeat (off by default; see README, "Replication
-- heartbeat"): on a standby, the timestamp replication_heartbeat_write
-- last wrote on the primary is older than max_delay, or was never seen.
-- Unlike lag measured from pg_stat_replication, it proves end to end that
-- what the primary commits becomes visible on the standby.
-- Needs SELECT on pghealthd.heartbeat.
-- Threshold: pghealthd.replication_heartbeat.max_delay (interval, default
-- 5 minutes: more than the write check's interval).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.replication_heartbeat.max_delay', true), ''),
                    '5 minutes')::interval AS max_delay
), hb AS (
    SELECT max(h.ts) AS ts FROM pghealthd.heartbeat AS h
)
SELECT hb.ts AS last_heartbeat, now() - hb.ts AS delay, conf.max_delay,
       pg_is_in_recovery() AS standby, pg_last_xact_replay_timestamp() AS last_replayed_commit
FROM hb, conf
WHERE hb.ts IS NULL OR now() - hb.ts > conf.max_delay
