#!/bin/bash
# A result the daemon does not stream (COPY TO STDOUT, COPY FROM STDIN) ends
# its check `error` at once: the loop never spins, signals still work, the
# server side is ended (no transaction, no lock left), the other checks are
# unharmed; `exec` answers an error the same way.
#
# Run alone: meson test -C build copy_checks
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/copy_checks.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup copy_checks
pgsql -c "CREATE TABLE copy_target (a int)" || die "setup failed"

# Sessions of the test's application_name that hold a transaction open.
open_transactions() { # APP
	q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'
		AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
}

# ---- once: two COPY checks and a plain one ------------------------------------
conf=$work/once.ini
write_config "$conf" "$work/out" 60s 3 application_name=pgh-copy
add_check "$conf" copy_out "COPY (SELECT 1) TO STDOUT" "timeout = 10s"
add_check "$conf" copy_in "COPY copy_target FROM STDIN" "timeout = 10s"
add_check "$conf" copy_both "COPY (SELECT g FROM generate_series(1, 1000000) g) TO STDOUT" \
	"timeout = 10s"
add_check "$conf" plain "SELECT 1 AS one"

timed_once 30 "$conf"
echo "figure: once with COPY checks exited $rc after ${wall} ms"
assert_eq 3 "$rc" "once with COPY checks ends UNKNOWN (exit 3), not hung"
assert_le "$wall" "$(slow_ms 5000)" "once with COPY checks ends within 5 s (checks' timeout 10 s)"
snapshot "$work/out"
for c in copy_out copy_in copy_both; do
	assert_eq error "$(snap_get "$c" 2)" "$c: state error"
	assert_contains "$(snap_get "$c" 5)" "COPY" "$c: the error names COPY"
	assert_eq 0 "$(snap_get "$c" 3)" "$c: rows 0 for a failed check"
	assert_file_absent "$work/out/$c.csv" "$c: no file"
done
assert_eq findings "$(snap_get plain 2)" "the plain check is unharmed"
assert_file_exists "$work/out/plain.csv" "the plain check's file"
assert_eq 0 "$(open_transactions pgh-copy)" "no session of pghealthd left in a transaction"
# COPY FROM STDIN left a RowExclusiveLock behind before: DDL waited on it.
rc=0
pgsql -c "SET lock_timeout = '2s'" -c "ALTER TABLE copy_target ADD COLUMN b int" || rc=$?
assert_eq 0 "$rc" "ALTER TABLE on the COPY FROM target gets its lock"
assert_eq 0 "$(q "SELECT count(*) FROM copy_target")" "nothing was copied into the table"

# ---- run: the loop stays responsive; SIGTERM ends it ------------------------------
conf=$work/run.ini
write_config "$conf" "$work/out-run" 1s 2 application_name=pgh-copy-run
add_check "$conf" copy_out "COPY (SELECT 1) TO STDOUT"
add_check "$conf" plain "SELECT 1 AS one"
start_daemon "$conf" "$work/run.log"
wait_for "$(slow_ms 5000)" log_has "$work/run.log" "round 2:" ||
	fail "the daemon runs a second round with a COPY check"
cpu=$(cpu_ms "$dpid")
echo "figure: daemon CPU after 2 rounds with a COPY check: ${cpu} ms"
assert_le "$cpu" "$(slow_ms 1000)" "no spinning: under 1 s of CPU for two rounds"
stop_daemon "$dpid" 3000 "daemon with a COPY check" "$work/run.log"
assert_eq 0 "$(open_transactions pgh-copy-run)" "no session left in a transaction after run"

# ---- exec --------------------------------------------------------------------------
for sql in "COPY (SELECT 1) TO STDOUT" "COPY copy_target FROM STDIN"; do
	t0=$(now_ms)
	rc=0
	out=$(PGAPPNAME=pgh-copy-exec timeout -k 2 30 "$PGHEALTHD" exec "$sql" 2>/dev/null) || rc=$?
	wall=$(($(now_ms) - t0))
	assert_eq 1 "$rc" "exec $sql: exit 1"
	assert_le "$wall" "$(slow_ms 5000)" "exec $sql: answers within 5 s (${wall} ms)"
	assert_eq error "$(jq -r .status <<<"$out" 2>/dev/null)" "exec $sql: status error"
	assert_contains "$(jq -r .message <<<"$out" 2>/dev/null)" "COPY" "exec $sql: message names COPY"
done
rc=0
pgsql -c "SET lock_timeout = '2s'" -c "ALTER TABLE copy_target ADD COLUMN c int" || rc=$?
assert_eq 0 "$rc" "no lock left by exec's COPY FROM STDIN"

finish
