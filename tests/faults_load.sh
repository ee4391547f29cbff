#!/bin/bash
# Fault injection, more work than the pool can do at once:
#
#  7. no pile-up: 500 checks on 5 connections in one round, never more than
#     5 sessions; 200 checks of 50 ms on 2 connections every second: rounds
#     longer than the interval are delayed, never skipped
#
# Times are printed as "figure: ..." lines.  Every time bound is multiplied
# by $PGH_SLOW (see lib.sh).  The other fault groups: faults_timeout,
# faults_terminate, faults_server, faults_disk, faults_signals.
#
# Run alone: meson test -C build faults_load
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults_load.sh
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup faults_load
umask 022

# many_checks FILE PREFIX COUNT SQL: COUNT checks PREFIX001... running SQL.
many_checks() {
	local i
	for i in $(seq -w 1 "$3"); do
		printf '\n[check:%s%s]\nsql = %s\n' "$2" "$i" "$4"
	done >>"$1"
}

# ===========================================================================
# 7. No pile-up
# ===========================================================================
scenario flood
write_config "$conf" "$d/out" 60s 5
many_checks "$conf" c 500 "SELECT 1 AS one"
sampler_start s7 120 pghealthd '%' "$d/samples"
run_once "$conf" 0 "$t: 500 checks on max_connections = 5"
sampler_stop s7 "$d/samples"
max_seen=$(sample_max "$d/samples" 2)
echo "figure: flood: 500 checks in one round: wall ${pgh_wall_ms} ms, max pghealthd sessions seen $max_seen in $(wc -l <"$d/samples") samples"
assert_le 1 "$max_seen" "$t: the sampler saw the daemon's sessions"
assert_le "$max_seen" 5 "$t: never more than 5 sessions"
assert_eq 500 "$(status_sql "$d/out" "SELECT count(*) FROM status WHERE state = 'findings' AND rows = 1")" \
	"$t: all 500 checks are findings with 1 row"
assert_eq 500 "$(find "$d/out" -maxdepth 1 -name 'c*.csv' | wc -l)" "$t: 500 check files"

scenario overrun
write_config "$conf" "$d/out" 1s 2
many_checks "$conf" s 200 "SELECT pg_sleep(0.05)"
sampler_start s7b 120 pghealthd '%' "$d/samples"
start_daemon "$conf" "$log"
round1() { log_has "$log" "info: round 1:"; }
if expect_within 15000 "$t: the first round completes" "$t: the first round did not complete" round1; then
	echo "figure: overrun: round 1 (200 x 50 ms on 2 connections) took ${waited_ms} ms; interval 1 s"
fi
# Long enough for the next round to start (and log any skip).
sleep 1.5
stop_daemon "$dpid" 3000 "$t" "$log"
sampler_stop s7b "$d/samples"
if log_has "$log" "next round delayed"; then
	ok "$t: the log says the next round was delayed"
else
	fail "$t: no 'next round delayed' in the log"
	show_log "$log"
fi
skips=$(grep -c 'skipped$' "$log" || true)
assert_eq 0 "$skips" "$t: no check is ever skipped (log)"
[ "$skips" -eq 0 ] || grep -m 5 'skipped$' "$log" | sed 's/^/#   /'
grep '] info: round [0-9]*:' "$log" | sed 's/^/# /'
bad_rounds=$(grep '] info: round [0-9]*:' "$log" | grep -vc ' 0 skipped in ' || true)
assert_eq 0 "$bad_rounds" "$t: every round summary says 0 skipped"
assert_eq "200|0" "$(status_sql "$d/out" "SELECT count(*), count(*) FILTER (WHERE state = 'skipped') FROM status")" \
	"$t: status.csv: 200 checks, none skipped"
max_seen=$(sample_max "$d/samples" 2)
echo "figure: overrun: max pghealthd sessions seen $max_seen in $(wc -l <"$d/samples") samples"
assert_le 1 "$max_seen" "$t: the sampler saw the daemon's sessions"
assert_le "$max_seen" 2 "$t: never more than 2 sessions"

finish
