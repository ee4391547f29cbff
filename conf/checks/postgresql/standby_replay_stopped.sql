-- On a standby only (no row on a primary): WAL has been received but replay
-- has stopped: paused (pg_wal_replay_pause()), or its position has not
-- moved since this check's previous run (kept by state_sql in
-- postgresql.ini): replay waiting on a query that conflicts with it
-- (max_standby_streaming_delay = -1), a stuck startup process.  The standby
-- still answers and still receives, so lag measured by the primary alone
-- does not show it.  An idle primary is no finding: nothing waits.
-- The padding after a WAL switch is not WAL waiting: a receive position at
-- the start of the segment after the replayed one is no backlog.
WITH prev AS (
    SELECT (p ->> 'replay_lsn')::pg_lsn AS replay_lsn,
           to_timestamp((p ->> 'since')::float8) AS since
    FROM (SELECT nullif(current_setting('pghealthd.previous', true), '')::json AS p) AS x
    WHERE p IS NOT NULL
), seg AS (
    SELECT setting::numeric * CASE unit WHEN 'B' THEN 1 WHEN 'MB' THEN 1048576 ELSE 1 END AS bytes
    FROM pg_settings WHERE name = 'wal_segment_size'
), s AS (
    SELECT pg_last_wal_receive_lsn() AS receive_lsn,
           pg_last_wal_replay_lsn() AS replay_lsn,
           pg_is_wal_replay_paused() AS paused
    WHERE pg_is_in_recovery()
), b AS (
    SELECT s.*,
           CASE WHEN (s.receive_lsn - '0/0'::pg_lsn) % seg.bytes = 0
                     AND floor((s.replay_lsn - '0/0'::pg_lsn) / seg.bytes)
                         = (s.receive_lsn - '0/0'::pg_lsn) / seg.bytes - 1
                THEN 0
                ELSE pg_wal_lsn_diff(s.receive_lsn, s.replay_lsn) END AS backlog_bytes
    FROM s, seg
)
SELECT CASE WHEN b.paused THEN 'paused' ELSE 'not moving' END AS replay,
       b.receive_lsn, b.replay_lsn, b.backlog_bytes,
       prev.since AS replay_lsn_unchanged_since,
       pg_last_xact_replay_timestamp() AS last_replayed_commit
FROM b
LEFT JOIN prev ON true
WHERE b.backlog_bytes > 0
  AND (b.paused OR prev.replay_lsn = b.replay_lsn)
