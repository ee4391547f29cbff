#!/bin/bash
# standby_replay_stopped against a real streaming standby (pg_basebackup -R
# of the fixture, tests/pgfixture.sh standby), at its default: replay paused
# while WAL arrives, then replay waiting on a query that conflicts with it
# (max_standby_streaming_delay = -1, the primary drops a table a standby
# session reads).  Each is found, and is healthy again once released; an
# idle standby, and one after a WAL switch, is no finding.  The replication
# heartbeat's writer and reader; standby_replay_delay at its default, the
# standby's clock moved forward (libfaketime); replication_lag at its
# defaults, on the primary: 1 GiB of WAL not replayed, then the primary's
# clock moved past a replay that stopped.
#
# Run alone: meson test -C build packs_standby
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_standby.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_standby

pg_pack_setup
primary_conf=$conf
# The primary under libfaketime too, its clock moved for replication_lag.
faked_server_setup

pgsql -c "CREATE TABLE pgh_sb (x int)" -c "INSERT INTO pgh_sb VALUES (1)" \
	-c "CREATE TABLE pgh_more (x int)" >/dev/null || die "setup failed"
# The standby runs under libfaketime (see packs_defaults), its clock offset
# in a file: moved forward only at the end, for standby_replay_delay.
sb_clock=$PGH_FIXTURE_DIR/standby-clock
faketime_clock "$sb_clock"
fixture_dirs+=("$work/standby")
sb_env=$(faked "$sb_clock" "$PGH_FIXTURE" standby "$work/standby" "$PGH_FIXTURE_DIR") ||
	die "no standby"
sb_host=$(sed -n "s/^export PGHOST=//p" <<<"$sb_env" | tr -d "'")
sb_port=$(sed -n "s/^export PGPORT=//p" <<<"$sb_env")
sb() { pgsql -h "$sb_host" -p "$sb_port" "$@"; }
sb_wait() { PGHOST=$sb_host PGPORT=$sb_port wait_sql "$@"; } # wait_sql on the standby
caught_up() {
	local lsn
	# A synchronous commit that wrote WAL flushes it all up to there (the
	# fixture commits asynchronously, and only flushed WAL is sent).
	lsn=$(pgsql -c "SET synchronous_commit = on" -c "INSERT INTO pgh_more VALUES (0)" \
		-c "SELECT pg_current_wal_flush_lsn()")
	sb_wait "SELECT pg_last_wal_replay_lsn() >= '$lsn'" "the standby replays up to $lsn"
}
sb_wait "SELECT pg_is_in_recovery() AND count(*) = 1 FROM pgh_sb" "the standby is up"
caught_up

conf=$work/standby.ini
new_config "$conf" "$out" "conninfo=host='$sb_host' port=$sb_port dbname=postgres user=postgres" \
	"session_sql=SET lock_timeout = '1s'" max_connections=3 history=0 "include=$pack"
bad() { status_sql "$out" "SELECT string_agg(\"check\" || ': ' || error, '; ') FROM status WHERE state IN ('error', 'timeout')"; }

round=idle
run_once "$conf" 0 "$round: the pack on a healthy standby: no warning"
assert_eq "" "$(bad)" "$round: no check fails on a standby"
run_once "$conf" 0 "$round: a second run, replay position unchanged, nothing waiting"
assert_eq ok "$(pack_state standby_replay_stopped)" "$round: an idle standby is not stopped"
pgsql -c "INSERT INTO pgh_more VALUES (1)" -c "SELECT pg_switch_wal()" >/dev/null
caught_up
run_once "$conf" 0 "$round: after a WAL switch"
run_once "$conf" 0 "$round: and again"
assert_eq ok "$(pack_state standby_replay_stopped)" "$round: the padding after a WAL switch is no backlog"

# ---- replay paused --------------------------------------------------------------
round=paused
sb -c "SELECT pg_wal_replay_pause()" >/dev/null || die "pause failed"
sb_wait "SELECT pg_is_wal_replay_paused()" "replay paused"
pgsql -c "INSERT INTO pgh_more SELECT generate_series(1, 1000)" >/dev/null
sb_wait "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()" "WAL received, not replayed"
run_once "$conf" 1 "$round: a warning"
assert_eq findings "$(pack_state standby_replay_stopped)" "$round: standby_replay_stopped finds it"
assert_eq paused "$(pack_column standby_replay_stopped replay)" "$round: the row says paused"
sb -c "SELECT pg_wal_replay_resume()" >/dev/null || die "resume failed"
caught_up
run_once "$conf" 0 "$round: resumed: no warning"
assert_eq ok "$(pack_state standby_replay_stopped)" "$round: healthy again"

# ---- replay waits on a conflicting query ------------------------------------------
round=conflict
sb -c "ALTER SYSTEM SET max_standby_streaming_delay = -1" -c "SELECT pg_reload_conf()" \
	>/dev/null || die "ALTER SYSTEM on the standby failed"
bg_start pgh_reader "host=$sb_host port=$sb_port dbname=postgres user=postgres"
bg_send pgh_reader "BEGIN; SELECT count(*) FROM pgh_sb;"
sb_wait "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'pgh_reader'
	AND state = 'idle in transaction'" "the standby session reads pgh_sb"
pgsql -c "DROP TABLE pgh_sb" -c "INSERT INTO pgh_more SELECT generate_series(1, 1000)" >/dev/null
sb_wait "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()" "WAL received, not replayed"
sleep 0.5
# The first run takes the position replay stopped at (it may have moved
# since the run before); the next one sees it has not moved.
pgh -c "$conf" once >/dev/null 2>&1 || true
run_once "$conf" 1 "$round: the next run: a warning"
assert_eq findings "$(pack_state standby_replay_stopped)" "$round: standby_replay_stopped finds replay not moving"
assert_eq "not moving" "$(pack_column standby_replay_stopped replay)" "$round: the row says not moving"
assert_ne "" "$(pack_column standby_replay_stopped replay_lsn_unchanged_since)" "$round: and since when"
bg_stop pgh_reader
caught_up
run_once "$conf" 0 "$round: released: no warning"
assert_eq ok "$(pack_state standby_replay_stopped)" "$round: healthy again"

# ---- the replication heartbeat (off by default) ------------------------------------
# Its table and its role, as README says; the writer runs on the primary as
# that role, the reader on the standby.
round=heartbeat
pgsql >/dev/null <<'SQL' || die "heartbeat setup failed"
CREATE SCHEMA pghealthd;
CREATE TABLE pghealthd.heartbeat (id int PRIMARY KEY, ts timestamptz NOT NULL);
CREATE ROLE pgh_heartbeat LOGIN;
GRANT USAGE ON SCHEMA pghealthd TO pgh_heartbeat;
GRANT SELECT, INSERT, UPDATE ON pghealthd.heartbeat TO pgh_heartbeat;
SQL
only() { # FILE CHECK: every pack check of FILE off but CHECK
	local c
	for c in $(sed -n 's/^\[check:\(.*\)\]$/\1/p' "$pack"); do
		printf '\n[check:%s]\nenabled = %s\n' "$c" "$([ "$c" = "$2" ] && echo true || echo false)"
	done >>"$1"
}
hb_out=$work/hb-out
hb_conf=$work/heartbeat-write.ini
pack_config "$hb_conf" pgh_heartbeat "$PGDATABASE" "$hb_out"
only "$hb_conf" replication_heartbeat_write
read_conf=$work/heartbeat-read.ini
cp "$conf" "$read_conf"
only "$read_conf" replication_heartbeat
caught_up
run_once "$read_conf" 1 "$round: no heartbeat seen yet: a warning"
assert_eq findings "$(pack_state replication_heartbeat)" "$round: a standby that never saw a heartbeat is a finding"
rb0=$(q "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()")
run_once "$hb_conf" 0 "$round: the write check on the primary, as its own role"
hb=$(q "SELECT now() - ts < interval '10 seconds' FROM pghealthd.heartbeat WHERE id = 1")
assert_eq t "$hb" "$round: the heartbeat is written and committed"
caught_up
run_once "$read_conf" 0 "$round: the standby sees it: no warning"
assert_eq ok "$(pack_state replication_heartbeat)" "$round: replication_heartbeat is healthy"
# The last heartbeat 10 minutes ago (a writer or a replication that
# stopped then): past the default max_delay of 5 minutes.
pgsql -c "UPDATE pghealthd.heartbeat SET ts = now() - interval '10 minutes'" >/dev/null
caught_up
run_once "$read_conf" 1 "$round: a heartbeat 10 minutes old: a warning"
assert_eq findings "$(pack_state replication_heartbeat)" "$round: found at the default max_delay"
run_once "$hb_conf" 0 "$round: the writer runs again"
caught_up
run_once "$read_conf" 0 "$round: fresh again: no warning"
rb1=$(q "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()")
assert_eq "$rb0" "$rb1" "$round: the writer's runs commit: no rollback"

# ---- replay behind: standby_replay_delay at its default (5 minutes) -----------------
# Replay paused with WAL waiting, then the standby's clock moved 4, then 6
# minutes past the last commit it replayed.
round=delay
caught_up
sb -c "SELECT pg_wal_replay_pause()" >/dev/null || die "pause failed"
sb_wait "SELECT pg_is_wal_replay_paused()" "replay paused"
t0=$(sb -c "SELECT extract(epoch FROM pg_last_xact_replay_timestamp())::int")
pgsql -c "INSERT INTO pgh_more SELECT generate_series(1, 1000)" >/dev/null
sb_wait "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()" "WAL received, not replayed"
sb_clock_at() { # SECONDS past the last replayed commit
	set_clock "$sb_clock" "$(($1 + t0 - $(date +%s)))"
	sb_wait "SELECT now() >= to_timestamp($t0 + $1)" "the standby's clock $1 s past $t0"
}
sb_clock_at 240
run_once "$conf" 1 "$round: 4 minutes: a warning (replay paused)"
assert_eq ok "$(pack_state standby_replay_delay)" "$round: 4 minutes behind is no standby_replay_delay finding"
sb_clock_at 360
run_once "$conf" 1 "$round: 6 minutes: a warning"
assert_eq findings "$(pack_state standby_replay_delay)" "$round: standby_replay_delay finds replay 6 minutes behind"
assert_eq t "$(pack_column standby_replay_delay replay_paused)" "$round: and says replay is paused"
set_clock "$sb_clock" 0
sb -c "SELECT pg_wal_replay_resume()" >/dev/null || die "resume failed"
caught_up
run_once "$conf" 0 "$round: resumed: no warning"
assert_eq ok "$(pack_state standby_replay_delay)" "$round: healthy again"


# ---- replication_lag at its defaults (5 minutes, 1 GiB), on the primary ---------
# Replay paused while the primary writes WAL the standby receives: some
# 16 MiB short of 1 GiB behind, then 64 MiB more.  WAL from messages: nothing to
# replay but the records themselves.
replayed_behind() {
	q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint FROM pg_stat_replication"
}
wal_messages() { # MiB: that much WAL written on the primary, and received
	pgsql -c "DO \$\$ BEGIN FOR i IN 1..$1 LOOP
			PERFORM pg_logical_emit_message(false, 'pgh', repeat('x', 1048576 - 64)); END LOOP; END \$\$" \
		-c "SELECT pg_switch_wal()" >/dev/null || die "the WAL writes failed"
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(q "SELECT write_lsn >= pg_current_wal_flush_lsn() FROM pg_stat_replication")" = t ] && return 0
		sleep 0.1
	done
	q "SELECT *, pg_current_wal_flush_lsn() FROM pg_stat_replication" >&2
	die "the standby did not receive the WAL in 60 s"
}
round=lag-bytes-short
# The primary keeps that WAL until the standby has it (no slot here), and
# its WAL sender does not take the jumps of its clock below for a standby
# silent for minutes.
pgsql -c "ALTER SYSTEM SET wal_keep_size = '2GB'" -c "ALTER SYSTEM SET wal_sender_timeout = 0" \
	-c "SELECT pg_reload_conf()" >/dev/null ||
	die "ALTER SYSTEM failed"
sb -c "SELECT pg_wal_replay_pause()" >/dev/null || die "pause failed"
sb_wait "SELECT pg_is_wal_replay_paused()" "replay paused"
behind0=$(replayed_behind)
s0=$(now_ms)
wal_messages $((1024 - 32 - behind0 / 1048576))
echo "# 1 GiB of WAL written and received in $(($(now_ms) - s0)) ms"
run_once "$primary_conf" 0 "$round: $(replayed_behind) bytes not replayed"
assert_eq ok "$(pack_state replication_lag)" "$round: under 1 GiB is no replication_lag finding"
round=lag-bytes
wal_messages 64
run_once "$primary_conf" 1 "$round: $(replayed_behind) bytes not replayed: a warning"
assert_eq replication_lag "$(findings)" "$round: replication_lag finds the standby past 1 GiB"
assert_le 1073741824 "$(pack_column replication_lag replay_lag_bytes)" "$round: its replay_lag_bytes"
sb -c "SELECT pg_wal_replay_resume()" >/dev/null || die "resume failed"
caught_up

# Then replay stops after WAL sent at +0; the primary's clock, moved 4, then
# 6 minutes on, is what the standby's next reply is measured against.
lag_at() { # SECONDS: the primary's clock that far on, the standby's reply read
	set_clock "$clock" "$1"
	pgsql -c "INSERT INTO pgh_more VALUES (2)" >/dev/null
	wait_sql "SELECT replay_lag > interval '$(($1 - 30)) seconds' FROM pg_stat_replication" \
		"replay_lag past $(($1 - 30)) s"
}
round=lag-time
sb -c "SELECT pg_wal_replay_pause()" >/dev/null || die "pause failed"
sb_wait "SELECT pg_is_wal_replay_paused()" "replay paused"
set_clock "$clock" 0
pgsql -c "INSERT INTO pgh_more SELECT generate_series(1, 1000)" >/dev/null
sb_wait "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()" "WAL received, not replayed"
lag_at 240
run_once "$primary_conf" 0 "$round: replay_lag $(q "SELECT replay_lag FROM pg_stat_replication")"
assert_eq ok "$(pack_state replication_lag)" "$round: 4 minutes is no replication_lag finding"
lag_at 360
run_once "$primary_conf" 1 "$round: replay_lag $(q "SELECT replay_lag FROM pg_stat_replication"): a warning"
assert_eq replication_lag "$(findings)" "$round: replication_lag finds replay 6 minutes behind"
set_clock "$clock" 0
sb -c "SELECT pg_wal_replay_resume()" >/dev/null || die "resume failed"
caught_up

finish
