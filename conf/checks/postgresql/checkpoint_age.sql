-- The last checkpoint (on a standby: restartpoint) began too long ago while
-- WAL kept coming: a checkpointer stuck on I/O or stopped, so crash recovery
-- would replay all of it and pg_wal cannot be recycled (check_postgres's
-- `checkpoint`).  An idle server skips its checkpoints, so the age alone
-- means nothing: the check needs WAL written (on a standby, replayed) since
-- the checkpoint's redo point.
-- Thresholds: pghealthd.checkpoint_age.max_age (interval, default three times
--             checkpoint_timeout: 15 minutes with the default 5min),
--             pghealthd.checkpoint_age.min_wal_bytes (default one WAL
--             segment, wal_segment_size: 16 MiB by default).
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.checkpoint_age.max_age', true), '')::interval,
                    3 * current_setting('checkpoint_timeout')::interval) AS max_age,
           coalesce(nullif(current_setting('pghealthd.checkpoint_age.min_wal_bytes', true), '')::numeric,
                    pg_size_bytes(current_setting('wal_segment_size'))) AS min_wal_bytes
), c AS (
    SELECT k.checkpoint_time, k.redo_lsn, k.redo_wal_file,
           CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                ELSE pg_current_wal_lsn() END AS wal_lsn
    FROM pg_control_checkpoint() AS k
)
SELECT now() - c.checkpoint_time AS checkpoint_age,
       c.checkpoint_time,
       pg_is_in_recovery() AS restartpoint,
       c.redo_lsn, c.redo_wal_file, c.wal_lsn,
       pg_wal_lsn_diff(c.wal_lsn, c.redo_lsn) AS wal_bytes_since,
       current_setting('checkpoint_timeout') AS checkpoint_timeout,
       current_setting('max_wal_size') AS max_wal_size
FROM c, conf
WHERE now() - c.checkpoint_time > conf.max_age
  AND pg_wal_lsn_diff(c.wal_lsn, c.redo_lsn) >= conf.min_wal_bytes
