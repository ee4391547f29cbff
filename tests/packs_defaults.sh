#!/bin/bash
# The pack's time thresholds at their defaults, without waiting for them: the
# server runs with its clock moved forward (libfaketime, reading the offset
# from a file), as a clock jump would move it, so a session idle in its
# transaction since the start reads idle for six minutes.  Each step is just
# past one default; the check whose default it passes finds its problem
# there and not a step before, and no other check fires because the clock
# moved:
#
#   +1 min   blocked_sessions (min_wait 30 seconds)
#   +6 min   idle_in_transaction, long_running_queries,
#            orphaned_prepared_transactions (min_age 5 minutes)
#   +16 min  checkpoint_age (3 x checkpoint_timeout, with the checkpointer
#            stopped and 20 MB of WAL written since its checkpoint)
#   +61 min  long_running_transactions (min_age 1 hour)
#
# Then the numeric defaults that the broader pack test lowers, each just
# short of it (no finding) and just past it: wait_events (4, then 5 sessions
# on one lock), checkpoint_pressure (19, then 20 checkpoints), xmin_horizon
# and xid_wraparound (the next transaction ID moved with pg_resetwal),
# rollback_ratio (9 %, then 12 % of 10 000 transactions) and
# connection_saturation (80, then 88 sessions of 97).
#
# Run alone: meson test -C build packs_defaults
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_defaults.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_defaults

pg_pack_setup

# autovacuum_freeze_max_age at its maximum: no anti-wraparound vacuum
# undoes the transaction IDs moved forward below.
pgsql -c "ALTER SYSTEM SET max_prepared_transactions = 5" \
	-c "ALTER SYSTEM SET autovacuum_freeze_max_age = 2000000000" >/dev/null || die "ALTER SYSTEM failed"
# The server's clock: an offset in a file it reads at every call.
faked_server_setup

pgsql -c "CREATE TABLE pgh_clock (id int PRIMARY KEY, v int)" \
	-c "INSERT INTO pgh_clock VALUES (1, 0)" >/dev/null || die "setup failed"

# ---- the problems, all begun at +0 ---------------------------------------------
bg_start pgh_idle
bg_send pgh_idle "BEGIN; SELECT v FROM pgh_clock WHERE id = 1 FOR UPDATE;"
wait_sql "SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'pgh_idle' AND state = 'idle in transaction'" "pgh_idle idle in transaction"
bg_start pgh_waiter
bg_send pgh_waiter "UPDATE pgh_clock SET v = 1 WHERE id = 1;"
bg_start pgh_sleeper
bg_send pgh_sleeper "SELECT pg_sleep(86400);"
wait_sql "SELECT count(*) = 2 FROM pg_stat_activity
	WHERE application_name IN ('pgh_waiter', 'pgh_sleeper') AND state = 'active'" "the waiter and the sleeper"
pgsql -c "BEGIN" -c "INSERT INTO pgh_clock VALUES (2, 0)" -c "PREPARE TRANSACTION 'pgh_forgotten'" \
	>/dev/null || die "PREPARE TRANSACTION failed"

# The checkpointer stops after a checkpoint, then 20 MB of WAL are written.
pgsql -c "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"
ckpt=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
[ -n "$ckpt" ] || die "no checkpointer in pg_stat_activity"
kill -STOP "$ckpt"
frozen_pids+=("$ckpt")
pgsql -c "CREATE TABLE pgh_wal AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 150000) AS g" \
	>/dev/null || die "the WAL writes failed"
# Analyzed once its writer has ended, and so flushed the counts of its
# writes: analyze_overdue would otherwise see them as made since the analyze.
pgsql -c "VACUUM ANALYZE pgh_wal" >/dev/null || die "VACUUM failed"
wal=$(q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), redo_lsn) FROM pg_control_checkpoint()")
assert_le 16777216 "$wal" "setup: $wal bytes of WAL since the checkpoint's redo point"

round=+0
run_once "$conf" 0 "$round: every problem younger than its threshold"
assert_eq "" "$(findings)" "$round: no finding"

round=+1min
move_clock 60
run_once "$conf" 1 "$round: a warning"
assert_eq blocked_sessions "$(findings)" "$round: only blocked_sessions (default min_wait 30 seconds)"
assert_match "UPDATE pgh_clock" "$(pack_column blocked_sessions blocked_query)" "$round: names the waiting statement"

round=+6min
move_clock 360
run_once "$conf" 1 "$round: warnings"
assert_eq "blocked_sessions idle_in_transaction long_running_queries orphaned_prepared_transactions" \
	"$(findings)" "$round: the 5-minute defaults fire (idle_in_transaction, long_running_queries, orphaned_prepared_transactions)"
assert_eq pgh_idle "$(pack_column idle_in_transaction application_name)" "$round: idle_in_transaction names pgh_idle"
assert_eq pgh_forgotten "$(pack_column orphaned_prepared_transactions gid)" "$round: names the prepared transaction"
assert_match "pg_sleep" "$(cat "$out/long_running_queries.csv")" "$round: long_running_queries names the sleeper"

round=+16min
move_clock 960
run_once "$conf" 1 "$round: warnings"
assert_eq "blocked_sessions checkpoint_age idle_in_transaction long_running_queries orphaned_prepared_transactions" \
	"$(findings)" "$round: checkpoint_age fires past 3 x checkpoint_timeout"
assert_eq 5min "$(pack_column checkpoint_age checkpoint_timeout)" "$round: the row gives checkpoint_timeout"

round=+61min
move_clock 3660
run_once "$conf" 1 "$round: warnings"
assert_eq "blocked_sessions checkpoint_age idle_in_transaction long_running_queries long_running_transactions orphaned_prepared_transactions" \
	"$(findings)" "$round: long_running_transactions fires past 1 hour"

# ---- fixed: the checkpointer runs, the sessions end -----------------------------
kill -CONT "$ckpt"
pgsql -c "CHECKPOINT" -c "ROLLBACK PREPARED 'pgh_forgotten'" >/dev/null || die "cleanup failed"
bg_stop pgh_sleeper
bg_stop pgh_waiter
bg_stop pgh_idle
round=fixed
run_once "$conf" 0 "$round: no warning left"
assert_eq "" "$(findings)" "$round: no finding"

# ---- the other defaults the broader pack test lowers ----------------------------
# wait_events: five sessions waiting on one table lock (default min_sessions
# 5), four are not enough.
bg_start pgh_holder
bg_send pgh_holder "BEGIN; LOCK TABLE pgh_clock IN ACCESS EXCLUSIVE MODE;"
wait_sql "SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'pgh_holder' AND state = 'idle in transaction'" "the lock holder"
waiters() { # N: N sessions wait for the holder's lock
	bg_many pgh_w "$1" "SELECT count(*) FROM pgh_clock;" "wait_event_type = 'Lock'"
}
round=wait4
waiters 4
run_once "$conf" 0 "$round: four waiting sessions are no warning"
assert_eq "" "$(findings)" "$round: no finding"
round=wait5
waiters 5
run_once "$conf" 1 "$round: a warning"
assert_eq wait_events "$(findings)" "$round: wait_events finds five sessions on one lock"
assert_eq 5 "$(pack_column wait_events sessions)" "$round: the row counts them"
for i in 1 2 3 4 5; do
	bg_stop "pgh_w$i"
done
bg_stop pgh_holder

# checkpoint_pressure: 20 checkpoints, over a fifth of them requested
# (default min_checkpoints 20, max_requested_ratio 0.2).
# PostgreSQL 17 moved the counts to pg_stat_checkpointer.
if [ "$(q "SELECT current_setting('server_version_num')::int >= 170000")" = t ]; then
	ckpt_view=checkpointer ckpt_sum="num_timed + num_requested"
else
	ckpt_view=bgwriter ckpt_sum="checkpoints_timed + checkpoints_req"
fi
ckpt_count() { q "SELECT $ckpt_sum FROM pg_stat_$ckpt_view"; }
checkpoints() { # TOTAL: CHECKPOINT until the server counts TOTAL
	while [ "$(ckpt_count)" -lt "$1" ]; do
		pgsql -c "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"
	done
}
round=checkpoints19
checkpoints 19
run_once "$conf" 0 "$round: $(ckpt_count) checkpoints are too few to judge"
assert_eq "" "$(findings)" "$round: no finding"
round=checkpoints20
checkpoints 20
run_once "$conf" 1 "$round: a warning"
assert_eq checkpoint_pressure "$(findings)" "$round: checkpoint_pressure finds $(pack_column checkpoint_pressure requested) of 20 requested"

# xmin_horizon: a prepared transaction 10 million transaction IDs old
# (default max_age 10 000 000).  The next transaction ID is moved with
# pg_resetwal on the stopped server, the commit log given the segment it
# then needs (zeros: those transactions never ran).
round=xmin
pgsql -c "SELECT pg_stat_reset_shared('$ckpt_view')" -c "BEGIN" -c "INSERT INTO pgh_clock VALUES (3, 0)" \
	-c "PREPARE TRANSACTION 'pgh_old_xmin'" >/dev/null || die "PREPARE TRANSACTION failed"
held=$(q "SELECT transaction FROM pg_prepared_xacts WHERE gid = 'pgh_old_xmin'")
next_xid $((held + 9999000))
run_once "$conf" 0 "$round: a prepared transaction $(q "SELECT age(transaction) FROM pg_prepared_xacts") xids old is no warning"
assert_eq "" "$(findings)" "$round: no finding"
next_xid $((held + 10000100))
run_once "$conf" 1 "$round: a warning"
assert_eq xmin_horizon "$(findings)" "$round: xmin_horizon finds it past 10 million"
assert_eq "prepared transaction pgh_old_xmin" "$(awk -F, 'NR > 1 { print $1, $2 }' "$out/xmin_horizon.csv")" \
	"$round: the only row is the prepared transaction, not the sessions that share its xmin"
pgsql -c "ROLLBACK PREPARED 'pgh_old_xmin'" >/dev/null || die "ROLLBACK PREPARED failed"

# xid_wraparound: databases 50 % of the way to wraparound (default max_pct
# 50: 1 073 741 824 transaction IDs), their datfrozenxid left where initdb
# put it.
round=wraparound
frozen=$(q "SELECT max(datfrozenxid::text::bigint) FROM pg_database")
next_xid $((frozen + 1073700000))
run_once "$conf" 0 "$round: $(q "SELECT max(age(datfrozenxid)) FROM pg_database") transaction IDs old is no warning"
assert_eq "" "$(findings)" "$round: no finding"
next_xid $((frozen + 1073800000))
run_once "$conf" 2 "$round: critical"
assert_eq xid_wraparound "$(findings)" "$round: xid_wraparound finds the databases past 50 %"
assert_eq 50.0 "$(pack_column xid_wraparound pct_to_wraparound)" "$round: 50.0 % of the way"

# rollback_ratio: 10 000 transactions, a tenth of them rolled back (default
# max_ratio 0.1, min_xacts 10 000); 9 % are not enough.  (xid_wraparound's
# finding stays from here on: nothing vacuums the databases.)
xacts() { # COMMITS ROLLBACKS: run that many transactions, in one session
	{
		yes 'SELECT 1;' | head -n "$1"
		yes 'BEGIN; ROLLBACK;' | head -n "$2"
	} | pgsql >/dev/null || die "the transactions failed"
	sleep 1 # the statistics of the session that ended, flushed
}
counted() { q "SELECT xact_$1 FROM pg_stat_database WHERE datname = current_database()"; }
round=rollbacks9
c=$(counted commit)
r=$(counted rollback)
xacts $((9100 - c)) $((900 - r))
run_once "$conf" 2 "$round: $(counted rollback) of $(($(counted commit) + $(counted rollback))) rolled back is no warning"
assert_eq xid_wraparound "$(findings)" "$round: no rollback_ratio finding"
round=rollbacks12
xacts 0 300
run_once "$conf" 2 "$round: critical (xid_wraparound)"
assert_eq "rollback_ratio xid_wraparound" "$(findings)" "$round: rollback_ratio finds $(pack_column rollback_ratio rollback_ratio) rolled back"

# connection_saturation: client connections at 90 % of the usable ones
# (default min_ratio 0.9: 88 of max_connections 100 less 3 reserved).
clients() { bg_many pgh_c "$1" "SELECT 1;"; } # N: N idle sessions
round=connections80
clients 80
run_once "$conf" 2 "$round: critical (xid_wraparound)"
assert_eq "rollback_ratio xid_wraparound" "$(findings)" "$round: 80 sessions and pghealthd's are no connection_saturation finding"
round=connections88
clients 88
run_once "$conf" 2 "$round: critical"
assert_eq "connection_saturation rollback_ratio xid_wraparound" "$(findings)" "$round: connection_saturation finds $(pack_column connection_saturation connections) of $(pack_column connection_saturation usable_connections)"
pgsql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name ~ '^pgh_c[0-9]+$'" \
	>/dev/null
for ((i = 1; i <= 88; i++)); do
	bg_stop "pgh_c$i"
done

finish
