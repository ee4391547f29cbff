#!/usr/bin/env bash
# Operations at run time: sd_notify messages (READY, STATUS, RELOADING,
# STOPPING, WATCHDOG), the Prometheus textfile (checked with promtool),
# `pghealthd status`, and journald-style log prefixes.
# Run alone: meson test -C build ops_runtime
#   or: PGHEALTHD=build/src/pghealthd NOTIFY_LISTEN=build/tests/notify-listen \
#       tests/with-pg.sh tests/ops_runtime.sh
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup ops_runtime
[ -x "${NOTIFY_LISTEN:-}" ] || die "NOTIFY_LISTEN (the notify-listen helper) is not set"
promtool=${PROMTOOL:-$(command -v promtool)}
[ -x "$promtool" ] || die "promtool is needed: scripts/install-deps extracts it into .tools/"

out=$work/out
mkdir -p "$out"

# ops_config FILE CONNINFO: four checks, one of each outcome.
ops_config() {
	new_config "$1" "$out" "conninfo=$2" min_connections=1 max_connections=3 interval=1s \
		prometheus_file=pghealthd.prom
	add_check "$1" healthy "SELECT 1 WHERE false"
	add_check "$1" inventory "SELECT 1 AS one"
	add_check "$1" broken "SELECT * FROM no_such_table" "severity = warning"
	add_check "$1" hot "SELECT 'on fire' AS problem" "severity = critical"
}
ini=$work/pghealthd.ini
ops_config "$ini" "host=$PGHOST port=$PGPORT dbname=postgres user=postgres"

# Wait until FILE has a line matching ERE, up to MS milliseconds.
wait_line() { # FILE ERE MS
	local deadline=$(($(now_ms) + $(slow_ms "$3")))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# ---- sd_notify -----------------------------------------------------------
sock=$work/notify.sock
"$NOTIFY_LISTEN" "$sock" >"$work/notify.log" 2>&1 &
listener_pid=$!
started_pids+=("$listener_pid")
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.02; done
[ -S "$sock" ] || die "notify listener did not bind $sock"

NOTIFY_SOCKET=$sock WATCHDOG_USEC=400000 start_daemon "$ini" "$work/daemon.log"
wait_line "$work/notify.log" '^READY=1$' 3000
assert_eq 0 $? "READY=1 sent"
wait_line "$work/notify.log" '^STATUS=round [0-9]+: ' 4000
assert_eq 0 $? "STATUS= with the round summary"
assert_match 'STATUS=round [0-9]+: 1 ok, 2 findings, 1 errors, 0 timeouts, 0 skipped' \
	"$(cat "$work/notify.log")" "STATUS counts ok/findings/errors"
sleep "$(awk -v f="$PGH_SLOW" 'BEGIN { print 1.0 * f }')"
pings=$(grep -c '^WATCHDOG=1$' "$work/notify.log")
assert_le 3 "$pings" "WATCHDOG=1 at half of WATCHDOG_USEC=400ms ($pings pings)"
kill -HUP "$dpid"
wait_line "$work/notify.log" '^RELOADING=1$' 3000
assert_eq 0 $? "RELOADING=1 on SIGHUP"
sleep "$(awk -v f="$PGH_SLOW" 'BEGIN { print 0.3 * f }')"
awk '/^RELOADING=1$/ { r = 1; next } r && /^READY=1$/ { found = 1 } END { exit !found }' \
	"$work/notify.log"
assert_eq 0 $? "READY=1 follows RELOADING=1"

# ---- Prometheus textfile and status, from the running daemon ---------------
wait_line "$out/pghealthd.prom" 'pghealthd_rounds_total [1-9]' 3000
"$promtool" check metrics <"$out/pghealthd.prom" >"$work/promtool.txt" 2>&1
assert_eq 0 $? "promtool check metrics accepts the textfile ($(head -c 200 "$work/promtool.txt"))"
prom=$(cat "$out/pghealthd.prom")
assert_contains "$prom" 'pghealthd_check_success{check="broken",severity="warning"} 0' \
	"failing check has success 0"
assert_contains "$prom" 'pghealthd_check_success{check="healthy",severity="info"} 1' \
	"healthy check has success 1"
assert_contains "$prom" 'pghealthd_check_findings{check="hot",severity="critical"} 1' \
	"check with findings has findings 1"
assert_contains "$prom" 'pghealthd_check_rows{check="inventory",severity="info"} 1' "rows gauge"
assert_match 'pghealthd_check_last_run_timestamp_seconds\{check="hot",severity="critical"\} [0-9]+\.[0-9]{3}' \
	"$prom" "last run timestamp"
assert_match 'pghealthd_pool_connections\{state="open"\} [1-3]' "$prom" "pool gauge: open connections"
assert_contains "$prom" 'pghealthd_round_verdict 2' "round verdict gauge is CRITICAL"
for m in check_duration_seconds pool_connections_peak pool_connects_total pool_reconnects_total \
	round_duration_seconds rounds_total round_timestamp_seconds; do
	assert_match "# TYPE pghealthd_$m (gauge|counter)" "$prom" "metric pghealthd_$m declared"
done
assert_no_tmp_files "$out"

kill -TERM "$dpid"
wait "$dpid"
rc=$?
assert_eq 0 "$rc" "daemon exits 0 on SIGTERM"
wait_line "$work/notify.log" '^STOPPING=1$' 1000
assert_eq 0 $? "STOPPING=1 on SIGTERM"

# `status` gives the exit code `once` gave, and a plain table when not a TTY.
plugin=$(pgh -c "$ini" once 2>/dev/null)
once_rc=$?
assert_eq 2 "$once_rc" "once: critical finding -> 2"
assert_eq 1 "$(wc -l <<<"$plugin")" "once prints one line on stdout (plugin output)"
assert_match '^PGHEALTHD CRITICAL - 4 checks: 1 ok, 2 with findings, 1 failed; critical: hot; failed: broken \| checks=4 ok=1 findings=2 failed=1 duration=[0-9.]+s$' \
	"$plugin" "plugin output names the critical and failed checks, with perfdata"
status_out=$(pgh -c "$ini" status 2>&1)
assert_eq "$once_rc" $? "status exits as once did"
assert_match '^check +severity +state +since +rows +duration_ms +started_at +error' "$status_out" \
	"status prints the header"
assert_match 'broken +warning +error +[0-9]+[smhd][0-9smh]* +0 ' "$status_out" "status shows the failing check"
assert_eq 0 "$(grep -c $'\033' <<<"$status_out")" "no colour codes when stdout is not a TTY"
touch -d '10 minutes ago' "$out/status.csv"
stale=$(pgh -c "$ini" status 2>&1)
assert_eq 3 $? "a stale status.csv (daemon not running) exits 3"
assert_contains "$stale" "is pghealthd running?" "status says the file is stale"
rm -f "$out/status.csv"
pgh -c "$ini" status >/dev/null 2>&1
assert_eq 3 $? "status without a status.csv exits 3"

# run refuses to start (exit 73, before READY=1) when output_dir is unusable.
sed "s|^output_dir = .*|output_dir = /proc/no-such-dir|" "$ini" >"$work/badout.ini"
pgh -c "$work/badout.ini" run >/dev/null 2>"$work/badout.log"
assert_eq 73 $? "run with an unusable output_dir exits 73"
assert_contains "$(cat "$work/badout.log")" "output_dir /proc/no-such-dir" "the error names output_dir"

# ---- READY=1 even when the database is down -------------------------------
: >"$work/notify.log"
ops_config "$work/down.ini" "host=127.0.0.1 port=1 dbname=postgres user=postgres connect_timeout=2"
NOTIFY_SOCKET=$sock start_daemon "$work/down.ini" "$work/down.log"
wait_line "$work/notify.log" '^READY=1$' 3000
assert_eq 0 $? "READY=1 while the database is unreachable (an outage is not a failed start)"
kill -TERM "$dpid"
wait "$dpid"
assert_eq 0 $? "daemon with the database down exits 0 on SIGTERM"

# ---- journald prefixes ----------------------------------------------------
log=$work/journal.log
: >"$log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$log") pgh -c "$ini" once 2>>"$log" >/dev/null
assert_match '^<6>' "$(head -n 1 "$log")" "<N> priority prefix when stderr is the journal"
assert_match '^<4>.*check broken' "$(grep 'check broken' "$log")" "a failing check is logged at warning"
assert_match '^<6>round 1: 4 checks' "$(grep 'round 1:' "$log")" "one info line per round"
pgh -c "$ini" once 2>"$work/plain.log" >/dev/null
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ pghealthd\[[0-9]+\] info: ' \
	"$(head -n 1 "$work/plain.log")" "timestamps when stderr is not the journal"

finish
