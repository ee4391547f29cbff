-- On a standby only (no row on a primary): how far replay is behind.  The
-- delay counts only while WAL has been received but not yet replayed, so an
-- idle primary does not make a healthy standby look late.
-- Threshold: pghealthd.standby_replay_delay.max_delay (interval, default 5 minutes).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.standby_replay_delay.max_delay', true), ''),
                    '5 minutes')::interval AS max_delay
), s AS (
    SELECT pg_last_wal_receive_lsn() AS receive_lsn,
           pg_last_wal_replay_lsn() AS replay_lsn,
           pg_last_xact_replay_timestamp() AS last_replay
    WHERE pg_is_in_recovery()
)
SELECT now() - s.last_replay AS replay_delay,
       s.last_replay AS last_replayed_commit,
       s.receive_lsn, s.replay_lsn,
       pg_wal_lsn_diff(s.receive_lsn, s.replay_lsn) AS replay_backlog_bytes,
       pg_is_wal_replay_paused() AS replay_paused
FROM s, conf
WHERE (s.receive_lsn IS NULL OR s.receive_lsn <> s.replay_lsn)
  AND now() - coalesce(s.last_replay, pg_postmaster_start_time()) > conf.max_delay
