-- Standbys (and other WAL consumers) of this server that lag behind, from
-- pg_stat_replication: time lag (write/flush/replay) or bytes not yet
-- replayed.  The *_lag times are NULL when a standby has caught up.
-- Thresholds: pghealthd.replication_lag.max_lag (interval, default 5 minutes),
--             pghealthd.replication_lag.max_bytes (bytes, default 1 GiB).
--
-- Privileges: pg_monitor.  Without it (pg_read_all_stats) pg_stat_replication
-- shows no state, position or lag of any WAL sender, so the check fails, its
-- error naming the GRANT, rather than report the standbys healthy.
WITH conf AS (
    SELECT coalesce(nullif(current_setting('pghealthd.replication_lag.max_lag', true), ''),
                    '5 minutes')::interval AS max_lag,
           coalesce(nullif(current_setting('pghealthd.replication_lag.max_bytes', true), ''),
                    '1073741824')::numeric AS max_bytes
), cur AS (
    SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                ELSE pg_current_wal_lsn() END AS lsn
), hidden AS (
    -- The WAL senders whose details this role cannot see (all of them,
    -- without pg_read_all_stats; before PostgreSQL 15 membership in it
    -- counts, from 15 on its privileges).
    SELECT count(*) AS n
    FROM pg_stat_replication AS r
    WHERE NOT pg_has_role('pg_read_all_stats',
                          CASE WHEN current_setting('server_version_num')::int >= 150000
                               THEN 'USAGE' ELSE 'MEMBER' END)
)
SELECT r.pid, r.usename, r.application_name, r.client_addr, r.state, r.sync_state,
       r.write_lag, r.flush_lag, r.replay_lag,
       pg_wal_lsn_diff(cur.lsn, r.write_lsn) AS write_lag_bytes,
       pg_wal_lsn_diff(cur.lsn, r.flush_lsn) AS flush_lag_bytes,
       pg_wal_lsn_diff(cur.lsn, r.replay_lsn) AS replay_lag_bytes,
       r.reply_time
FROM pg_stat_replication AS r, cur, conf
WHERE (r.write_lag > conf.max_lag
       OR r.flush_lag > conf.max_lag
       OR r.replay_lag > conf.max_lag
       OR pg_wal_lsn_diff(cur.lsn, r.replay_lsn) > conf.max_bytes)
ORDER BY replay_lag_bytes DESC NULLS LAST
-- The privilege guard (see the header): OFFSET is computed once, before
-- the first row is read, so the check fails even when it has no rows.
OFFSET (SELECT CASE WHEN h.n > 0 THEN format(
               'pghealthd: missing privilege: replication_lag cannot see the lag of %s %s'
               ' in pg_stat_replication; GRANT pg_monitor TO %I',
               h.n, CASE WHEN h.n = 1 THEN 'WAL sender' ELSE 'WAL senders' END, current_user)::int END
        FROM hidden AS h)
