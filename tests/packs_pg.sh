#!/bin/bash
# The PostgreSQL check pack (conf/checks/postgresql.ini) against a real
# server: every check runs without error on a fresh cluster (and the round is
# OK), then the problems the checks look for are created for real (idle and
# lock-waiting sessions, a long statement, an invalid index, a sequence near
# its limit, a disabled trigger, a prepared transaction, dead rows, a
# deadlock, temp files, a replication slot, a restart-only setting, ...) and
# each check must report them; then they are removed again and each check
# must be healthy (state ok, no <check>.csv).  vacuum_overdue and
# analyze_overdue must also leave alone a table autovacuum has had no chance
# to reach yet (with commit timestamps off, then on), and report one locked
# out of autovacuum for longer than min_age.  Thresholds are lowered the way
# a user does it: `SET pghealthd.<check>.<parameter>` in [target]
# session_sql; one check is replaced by an inline `sql` in a later section.
#
# Run alone: meson test -C build packs_pg
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_pg.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_pg

pack=$root/conf/checks/postgresql.ini
out=$work/out
mkdir -p "$out"
[ -f "$pack" ] || die "no check pack at $pack"

# ---- configurations ----------------------------------------------------------
# The pack as shipped, with the lowered thresholds given as extra lines.
pg_pack_config() { # FILE [SESSION_SQL...]
	local f=$1
	shift
	pack_config "$f" "$PGUSER" "$PGDATABASE" "$out" "$@"
}

lowered=(
	"SET pghealthd.long_running_queries.min_age = '1s'"
	"SET pghealthd.long_running_transactions.min_age = '1s'"
	"SET pghealthd.idle_in_transaction.min_age = '0'"
	"SET pghealthd.blocked_sessions.min_wait = '0'"
	"SET pghealthd.wait_events.min_sessions = 1"
	"SET pghealthd.orphaned_prepared_transactions.min_age = '0'"
	"SET pghealthd.xmin_horizon.max_age = 1000"
	"SET pghealthd.checkpoint_pressure.min_checkpoints = 1"
	"SET pghealthd.table_bloat_estimate.min_bloat_bytes = 0"
)
base_conf=$work/base.ini
pg_pack_config "$base_conf"
low_conf=$work/lowered.ini
pg_pack_config "$low_conf" "${lowered[@]}"
# A later section replaces a pack check's sql_file with inline sql.
cat >>"$low_conf" <<'EOF'

[check:database_sizes]
sql = SELECT 'inline override' AS marker
EOF

# ---- status helpers ----------------------------------------------------------
load_status() {
	if ! status_sql "$out" "SELECT \"check\", state, rows, coalesce(file, ''),
			replace(coalesce(error, ''), E'\n', ' ') FROM status ORDER BY 1" \
		>"$work/status.txt"; then
		fail "$round: status.csv loads with COPY"
		: >"$work/status.txt"
	fi
}

# The round ran every check of the pack and none failed or timed out.
no_errors() {
	local bad n
	load_status
	n=$(wc -l <"$work/status.txt")
	assert_eq "$npack" "$n" "$round: one status row per pack check"
	bad=$(awk -F'|' '$2 == "error" || $2 == "timeout" { print $1 " (" $2 "): " $5 }' "$work/status.txt")
	assert_eq "" "$bad" "$round: no check failed or timed out"
}

state_of() {
	awk -F'|' -v c="$1" '$1 == c { print $2 }' "$work/status.txt"
}

expect_findings() { # CHECK
	local st
	st=$(state_of "$1")
	if [ "$st" = findings ] && [ -s "$out/$1.csv" ]; then
		ok "$round: $1 reports findings"
	else
		fail "$round: $1 reports findings: state [$st], file $([ -f "$out/$1.csv" ] && echo present || echo absent)"
	fi
}

expect_healthy() { # CHECK
	local st
	st=$(state_of "$1")
	if [ "$st" = ok ] && [ ! -e "$out/$1.csv" ]; then
		ok "$round: $1 is healthy"
	else
		fail "$round: $1 is healthy: state [$st], file $([ -f "$out/$1.csv" ] && echo present || echo absent)"
		[ -f "$out/$1.csv" ] && head -n 3 "$out/$1.csv" | sed 's/^/#   /'
	fi
}

# One round; a status.csv left from an earlier round must not stand in for it.
run_round() { # CONFIG EXPECTED_EXIT MESSAGE
	local c
	rm -f "$out/status.csv"
	run_once "$@"
	[ "$pgh_rc" = "$2" ] && return 0
	# Which warning or critical check made the difference, and its rows.
	for c in $(status_sql "$out" "SELECT \"check\" FROM status
		WHERE state = 'findings' AND severity <> 'info'" 2>/dev/null); do
		echo "#   $c:"
		head -n 4 "$out/$c.csv" 2>/dev/null | sed 's/^/#     /'
	done
}

csv_has() { # CHECK TEXT MESSAGE
	assert_contains "$(cat "$out/$1.csv" 2>/dev/null)" "$2" "$round: $3"
}

csv_lacks() { # CHECK TEXT MESSAGE
	if grep -qF -- "$2" "$out/$1.csv" 2>/dev/null; then
		fail "$round: $3: [$2] found in $1.csv"
		grep -F -- "$2" "$out/$1.csv" | head -n 3 | sed 's/^/#   /'
	else
		ok "$round: $3"
	fi
}

# fill_table NAME: fill a table created just now, with autovacuum on, past
# both its autovacuum and its autoanalyze trigger (50 rows while never
# vacuumed or analyzed): 2000 rows inserted, 1000 of them deleted.  Waits
# until the statistics count them.
fill_table() {
	pgsql >/dev/null <<EOF || die "filling $1 failed"
INSERT INTO $1 SELECT g, repeat('x', 60) FROM generate_series(1, 2000) g;
DELETE FROM $1 WHERE id % 2 = 0;
EOF
	wait_sql "SELECT n_dead_tup >= 1000 AND n_mod_since_analyze >= 3000
		FROM pg_stat_user_tables WHERE relname = '$1'" "$1 counted"
}

# fresh_table NAME: (re)create a table and fill it.
fresh_table() {
	pgsql -c "DROP TABLE IF EXISTS $1" -c "CREATE TABLE $1 (id int, pad text)" >/dev/null ||
		die "creating $1 failed"
	fill_table "$1"
}

# Enabled checks only: the replication heartbeat is off by default.
npack=$(($(grep -c '^\[check:' "$pack") - $(grep -c '^enabled = false' "$pack")))
assert_le 25 "$npack" "the PostgreSQL pack has at least 25 checks"

# temp_mb MB: a sort that does not fit in work_mem writes about MB of
# temporary files; waits until the statistics count them.
temp_mb() {
	local before
	before=$(q "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
	pgsql -c "SET work_mem = '64kB'" \
		-c "SELECT count(*) FROM (SELECT g FROM generate_series(1, $1 * 70000) g ORDER BY g DESC) s" \
		>/dev/null || die "temp file query failed"
	wait_sql "SELECT temp_bytes > $before FROM pg_stat_database WHERE datname = current_database()" \
		"temp files counted"
}

# ---- round 1: a fresh cluster is healthy -----------------------------------
# Even with 10 MB of temporary files written just after initdb: a rate taken
# since the statistics began would read it as many GiB a day.
round=baseline
pgh -c "$base_conf" check-config >/dev/null 2>"$work/check-config.err" ||
	die "check-config refused the pack: $(cat "$work/check-config.err")"
temp_mb 10
# Transactions the cluster counted as rollbacks and commits.
xacts() { q "SELECT sum(xact_rollback) || ' ' || sum(xact_commit) FROM pg_stat_database"; }
read -r rb0 cm0 <<<"$(xacts)"
run_round "$base_conf" 0 "$round: a fresh cluster has no warning or critical finding"
no_errors
[ -s "$out/.state/temp_files" ] && [ -s "$out/.state/deadlocks" ]
assert_eq 0 $? "$round: temp_files and deadlocks keep their counters in output_dir/.state"
# The backends count their transactions when they exit: the commits show
# when they have.
flushed() {
	read -r rb1 cm1 <<<"$(xacts)"
	[ $((cm1 - cm0)) -ge "$npack" ]
}
expect_within 5000 "$round: the round's transactions are counted" \
	"$round: the round's transactions are not counted" flushed || true
assert_eq "$rb0" "$rb1" "$round: the pack's round is no rollback in pg_stat_database (xact_rollback $rb0 -> $rb1, xact_commit $cm0 -> $cm1)"
expect_findings database_sizes
for c in top_statements settings_pending_restart idle_in_transaction temp_files deadlocks; do
	expect_healthy "$c"
done

# A low threshold shows enough digits to see why a row is a finding (a
# fresh cluster's xid age is a few dozen: 0.000001 % of 2^31).
pct=$(pgsql -c "SELECT set_config('pghealthd.xid_wraparound.max_pct', '0.0000001', false)" \
	-f "$root/conf/checks/postgresql/xid_wraparound.sql" | awk -F'|' -v db="$PGDATABASE" '$1 == db { print $3 }')
assert_match '^0\.0*[1-9][0-9]*$' "$pct" "$round: xid_wraparound's pct_to_wraparound shows why it fired ($pct, not 0.0)"

# ---- after a restart, and three rounds: still nothing, and no rollback -------
"$PGH_FIXTURE" restart "$PGH_FIXTURE_DIR" >/dev/null || die "server restart failed"
for round in restarted again-1 again-2 again-3; do
	run_round "$base_conf" 0 "$round: no warning or critical finding"
	no_errors
	for c in temp_files deadlocks; do
		expect_healthy "$c"
	done
done
cm0=$cm1
expect_within 5000 "$round: the rounds' transactions are counted" \
	"$round: the rounds' transactions are not counted" flushed || true
assert_eq "$rb0" "$rb1" "$round: four more rounds, a restart among them, are no rollback (xact_rollback $rb0 -> $rb1)"

# ---- round 2: a restart-only setting, pg_stat_statements installed -------
# but not loaded: top_statements must stay silent, not fail.  Commit
# timestamps are turned on for after the restart (vacuum_overdue and
# analyze_overdue date never-vacuumed tables with them); until then they are
# off, the default, and a table created and filled seconds ago, that
# autovacuum has had no chance to reach yet, is no finding.
round=pending-restart
pgsql -c "CREATE EXTENSION pg_stat_statements" \
	-c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" \
	-c "ALTER SYSTEM SET track_commit_timestamp = on" \
	-c "SELECT pg_reload_conf()" >/dev/null || die "pg_stat_statements setup failed"
fresh_table pgh_fresh
wait_sql "SELECT pending_restart FROM pg_settings WHERE name = 'shared_preload_libraries'" \
	"shared_preload_libraries pending restart"
run_round "$low_conf" 1 "$round: a pending setting is a warning"
no_errors
expect_findings settings_pending_restart
csv_has settings_pending_restart shared_preload_libraries "the pending setting is named"
expect_healthy top_statements
expect_healthy vacuum_overdue
expect_healthy analyze_overdue

"$PGH_FIXTURE" restart "$PGH_FIXTURE_DIR" >/dev/null || die "server restart failed"

# ---- create the problems ---------------------------------------------------
pgsql >/dev/null <<'EOF' || die "schema setup failed"
CREATE TABLE pgh_lock (x int);
CREATE TABLE pgh_dl1 (x int);
CREATE TABLE pgh_dl2 (x int);
CREATE TABLE pgh_dup (x int);
INSERT INTO pgh_dup VALUES (1), (1);
CREATE SEQUENCE pgh_seq MAXVALUE 100;
SELECT setval('pgh_seq', 95);
CREATE TABLE pgh_trg (x int);
CREATE FUNCTION pgh_trg_fn() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER pgh_trg_t BEFORE INSERT ON pgh_trg FOR EACH ROW EXECUTE FUNCTION pgh_trg_fn();
ALTER TABLE pgh_trg DISABLE TRIGGER pgh_trg_t;
CREATE TABLE pgh_dead (id int, pad text) WITH (autovacuum_enabled = false);
INSERT INTO pgh_dead SELECT g, repeat('x', 60) FROM generate_series(1, 20000) g;
DELETE FROM pgh_dead WHERE id % 10 <> 0;
SELECT pg_create_physical_replication_slot('pgh_slot', true);
BEGIN;
SELECT txid_current();
PREPARE TRANSACTION 'pgh_prepared';
-- 2000 transactions, so the prepared one is old enough for xmin_horizon.
DO $$ BEGIN FOR i IN 1..2000 LOOP PERFORM txid_current(); COMMIT; END LOOP; END $$;
CHECKPOINT;
EOF
# A failed CREATE INDEX CONCURRENTLY leaves an invalid index behind.
if pgsql -c "CREATE UNIQUE INDEX CONCURRENTLY pgh_dup_x ON pgh_dup (x)" 2>/dev/null; then
	die "CREATE UNIQUE INDEX CONCURRENTLY on duplicates succeeded"
fi
# Temporary files: 15 MB within the seconds since the previous round is
# far above the default 10 GiB a day.
temp_mb 15

# A deadlock between two sessions.
bg_start pgh_dl_a
bg_start pgh_dl_b
bg_send pgh_dl_a "BEGIN; LOCK TABLE pgh_dl1;"
bg_send pgh_dl_b "BEGIN; LOCK TABLE pgh_dl2;"
wait_sql "SELECT count(*) = 2 FROM pg_stat_activity WHERE application_name IN ('pgh_dl_a', 'pgh_dl_b')
	AND state = 'idle in transaction'" "deadlock sessions ready"
bg_send pgh_dl_a "LOCK TABLE pgh_dl2;"
wait_sql "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE application_name = 'pgh_dl_a'" \
	"first deadlock session waiting"
bg_send pgh_dl_b "LOCK TABLE pgh_dl1;"
for ((i = 0; i < 100; i++)); do
	grep -q 'deadlock detected' "$work/pgh_dl_a.log" "$work/pgh_dl_b.log" && break
	sleep 0.1
done
grep -q 'deadlock detected' "$work/pgh_dl_a.log" "$work/pgh_dl_b.log" || die "no deadlock detected"
# Ending the sessions flushes their statistics.
bg_stop pgh_dl_a
bg_stop pgh_dl_b
wait_sql "SELECT deadlocks > 0 FROM pg_stat_database WHERE datname = current_database()" "deadlock counted"

# Sessions: one idle in a transaction, one holding a lock, one waiting for
# it, one running a long statement.
bg_start pgh_idle
bg_send pgh_idle "BEGIN; SELECT 1;"
bg_start pgh_holder
bg_send pgh_holder "BEGIN; LOCK TABLE pgh_lock IN ACCESS EXCLUSIVE MODE;"
wait_sql "SELECT count(*) = 2 FROM pg_stat_activity WHERE application_name IN ('pgh_idle', 'pgh_holder')
	AND state = 'idle in transaction'" "idle sessions"
bg_start pgh_waiter
bg_send pgh_waiter "SELECT count(*) FROM pgh_lock;"
bg_start pgh_sleeper
bg_send pgh_sleeper "SELECT pg_sleep(60);"
wait_sql "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE application_name = 'pgh_waiter'" \
	"lock waiter"
wait_sql "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'pgh_sleeper'
	AND state = 'active' AND now() - query_start > interval '1.2 seconds'" "long statement"
wait_sql "SELECT n_dead_tup >= 18000 FROM pg_stat_user_tables WHERE relname = 'pgh_dead'" \
	"dead rows counted"
pgsql -c "SELECT 1 FROM pg_stat_statements LIMIT 1" >/dev/null ||
	die "pg_stat_statements is not loaded after the restart"
[ "$(pgsql -c "SHOW track_commit_timestamp")" = on ] ||
	die "track_commit_timestamp is not on after the restart"

# Past their triggers, never vacuumed or analyzed: pgh_fresh just created
# (autovacuum has had no chance yet); pgh_blocked created empty, then locked
# by a session so that autovacuum skips it, then filled: neglected once it is
# older than min_age.
fresh_table pgh_fresh
pgsql -c "CREATE TABLE pgh_blocked (id int, pad text)" >/dev/null || die "pgh_blocked failed"
bg_start pgh_avlock
bg_send pgh_avlock "BEGIN; LOCK TABLE pgh_blocked IN SHARE UPDATE EXCLUSIVE MODE;"
wait_sql "SELECT count(*) = 1 FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
	WHERE a.application_name = 'pgh_avlock' AND l.relation = 'pgh_blocked'::regclass
	AND l.granted" "autovacuum locked out of pgh_blocked"
fill_table pgh_blocked

# ---- round 3: every problem is found -----------------------------------------
# The checks that report the problems made above (round 4: healthy again).
problem_checks=(idle_in_transaction long_running_transactions blocked_sessions wait_events
	long_running_queries invalid_indexes sequence_exhaustion disabled_triggers
	orphaned_prepared_transactions xmin_horizon dead_tuples vacuum_overdue analyze_overdue
	autovacuum_disabled inactive_replication_slots deadlocks temp_files checkpoint_pressure)
round=problems
run_round "$low_conf" 1 "$round: warnings, no critical finding"
no_errors
for c in "${problem_checks[@]}" top_statements; do
	expect_findings "$c"
done
expect_healthy settings_pending_restart
csv_has idle_in_transaction pgh_idle "the idle session is named"
csv_has blocked_sessions "LOCK TABLE pgh_lock" "the blocker's statement is shown"
csv_has blocked_sessions "SELECT count(*) FROM pgh_lock" "the blocked statement is shown"
csv_has long_running_queries "pg_sleep(60)" "the long statement is shown"
csv_has invalid_indexes pgh_dup_x "the invalid index is named"
csv_has sequence_exhaustion pgh_seq "the sequence is named"
csv_has disabled_triggers pgh_trg_t "the trigger is named"
csv_has orphaned_prepared_transactions pgh_prepared "the prepared transaction is named"
csv_has xmin_horizon pgh_prepared "the prepared transaction holds xmin back"
csv_has dead_tuples pgh_dead "the table with dead rows is named"
csv_has vacuum_overdue pgh_dead "a table autovacuum may not vacuum is overdue at once"
csv_has analyze_overdue pgh_dead "a table autovacuum may not analyze is overdue at once"
csv_lacks vacuum_overdue pgh_fresh "a table created seconds ago is not overdue for vacuum"
csv_lacks analyze_overdue pgh_fresh "a table created seconds ago is not overdue for analyze"
csv_lacks vacuum_overdue pgh_blocked "nor is one blocked for less than min_age (vacuum)"
csv_lacks analyze_overdue pgh_blocked "nor is one blocked for less than min_age (analyze)"
csv_has autovacuum_disabled pgh_dead "the table without autovacuum is named"
csv_has inactive_replication_slots pgh_slot "the slot is named"
csv_has top_statements "pgh_dead" "pg_stat_statements rows are read"
assert_eq "marker,inline override" "$(tr '\n' ',' <"$out/database_sizes.csv" | sed 's/,$//')" \
	"$round: an inline sql section replaces the pack's sql_file"

# ---- round 3a: the same problems a round later: the deadlock and the temp
# files are reported once, not for as long as the statistics live.
round=problems-again
run_round "$low_conf" 1 "$round: warnings, no critical finding"
no_errors
expect_findings idle_in_transaction
expect_healthy deadlocks
expect_healthy temp_files

# ---- round 3b: min_age 1 s: the blocked table is now neglected ---------------
round=neglected
neglect_conf=$work/neglected.ini
pg_pack_config "$neglect_conf" "${lowered[@]}" \
	"SET pghealthd.vacuum_overdue.min_age = '1s'" \
	"SET pghealthd.analyze_overdue.min_age = '1s'"
wait_sql "SELECT pg_xact_commit_timestamp(xmin) < now() - interval '1.5 seconds'
	FROM pg_class WHERE relname = 'pgh_blocked'" "pgh_blocked older than min_age"
run_round "$neglect_conf" 1 "$round: warnings, no critical finding"
no_errors
csv_has vacuum_overdue pgh_blocked "a table past its trigger and unvacuumed for min_age is overdue"
csv_has analyze_overdue pgh_blocked "a table past its trigger and unanalyzed for min_age is overdue"
csv_has vacuum_overdue pgh_dead "the table autovacuum may not vacuum is still overdue"
csv_has analyze_overdue pgh_dead "the table autovacuum may not analyze is still overdue"

# The statistics must have been counting for min_age too.  overdue CHECK: run
# the check's SQL with min_age just under pgh_blocked's age; 1 if it reports
# pgh_blocked.
overdue() {
	pgsql -c "SELECT set_config('pghealthd.$1.min_age',
			(now() - pg_xact_commit_timestamp(xmin) - interval '0.2 second')::text, false)
		FROM pg_class WHERE relname = 'pgh_blocked'" \
		-f "$root/conf/checks/postgresql/$1.sql" | grep -c '^public|pgh_blocked|'
}
assert_eq 1 "$(overdue vacuum_overdue)" "$round: min_age just under the table's age: overdue for vacuum"
assert_eq 1 "$(overdue analyze_overdue)" "$round: min_age just under the table's age: overdue for analyze"
pgsql -c "SELECT pg_stat_reset_single_table_counters('pgh_blocked'::regclass)" \
	-c "DELETE FROM pgh_blocked WHERE id % 4 = 1" >/dev/null || die "pgh_blocked reset failed"
wait_sql "SELECT n_dead_tup >= 500 AND n_mod_since_analyze >= 500
	FROM pg_stat_user_tables WHERE relname = 'pgh_blocked'" "pgh_blocked counted again"
assert_eq 0 "$(overdue vacuum_overdue)" \
	"$round: past its trigger again, counted since a reset less than min_age ago: not overdue for vacuum"
assert_eq 0 "$(overdue analyze_overdue)" \
	"$round: past its trigger again, counted since a reset less than min_age ago: not overdue for analyze"

# ---- remove the problems -----------------------------------------------------
for s in pgh_sleeper pgh_waiter pgh_holder pgh_idle pgh_avlock; do
	bg_stop "$s"
done
pgsql >/dev/null <<'EOF' || die "cleanup failed"
ROLLBACK PREPARED 'pgh_prepared';
SELECT pg_drop_replication_slot('pgh_slot');
DROP INDEX pgh_dup_x;
DROP SEQUENCE pgh_seq;
ALTER TABLE pgh_trg ENABLE TRIGGER pgh_trg_t;
ALTER TABLE pgh_dead RESET (autovacuum_enabled);
DROP TABLE pgh_fresh, pgh_blocked;
SELECT pg_stat_reset();
SELECT pg_stat_reset_shared('bgwriter');
-- PostgreSQL 17 keeps the checkpoint counters apart: reset them too.
SELECT pg_stat_reset_shared('checkpointer') WHERE current_setting('server_version_num')::int >= 170000;
VACUUM ANALYZE pgh_dead;
EOF
wait_sql "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'pgh\_%'" \
	"test sessions gone"
wait_sql "SELECT last_vacuum IS NOT NULL AND n_dead_tup = 0 FROM pg_stat_user_tables
	WHERE relname = 'pgh_dead'" "vacuum counted"

# ---- round 4: healthy again; the vacuumed table is now bloated ---------------
round=removed
run_round "$low_conf" 1 "$round: only the bloat warning is left"
no_errors
for c in "${problem_checks[@]}" settings_pending_restart; do
	expect_healthy "$c"
done
expect_findings table_bloat_estimate
csv_has table_bloat_estimate pgh_dead "the bloated table is named"

pgsql -c "VACUUM FULL pgh_dead" -c "ANALYZE pgh_dead" >/dev/null || die "VACUUM FULL failed"

# ---- round 5: nothing left ---------------------------------------------------
round=clean
run_round "$low_conf" 0 "$round: no warning left"
no_errors
expect_healthy table_bloat_estimate

finish
