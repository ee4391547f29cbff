#!/bin/bash
# Fault injection, pg_terminate_backend of the daemon's connections:
#
#  3. a busy connection: that check fails (error, the server's message, no
#     file), the others in the round do not, and once ends promptly
#  4. idle connections: the daemon logs each one lost, the pool refills
#     itself to min_connections and the next round is clean
#
# Times are printed as "figure: ..." lines.  Every time bound is multiplied
# by $PGH_SLOW (see lib.sh).  The other fault groups: faults_timeout,
# faults_server, faults_load, faults_disk, faults_signals.
#
# Run alone: meson test -C build faults_terminate
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults_terminate.sh
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup faults_terminate
umask 022

# ===========================================================================
# 3. pg_terminate_backend of a busy connection
# ===========================================================================
scenario terminate-busy
log=$d/once.log
write_config "$conf" "$d/out" 60s 3
add_check "$conf" before "SELECT 'a' AS a, 1 AS n"
add_check "$conf" victim "SELECT pg_sleep(3)"
add_check "$conf" after "SELECT g FROM generate_series(1, 3) g"
pgh_bg "$log" -c "$conf" once
opid=$pgh_pid
started_pids+=("$opid")
find_victim() {
	local r
	r=$(q "SELECT pid, (extract(epoch FROM query_start) * 1000)::bigint FROM pg_stat_activity
		WHERE application_name = 'pghealthd' AND state = 'active'
		  AND query LIKE '%pg_sleep(3)%' LIMIT 1") || return 1
	[ -n "$r" ] || return 1
	IFS='|' read -r victim qstart <<<"$r"
}
if wait_for "$(slow_ms 2000)" find_victim; then
	now=$(now_ms)
	wait_ms=$((qstart + 500 - now))
	[ "$wait_ms" -le 0 ] || sleep "$(awk -v m="$wait_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	t_term=$(now_ms)
	assert_eq t "$(q "SELECT pg_terminate_backend($victim)")" "$t: pg_terminate_backend($victim) $((t_term - qstart)) ms into the query"
else
	fail "$t: the victim's query was never seen in pg_stat_activity"
	t_term=$(now_ms)
fi
rc=0
if wait_for "$(slow_ms 2000)" not_alive "$opid"; then
	wait "$opid" || rc=$?
	echo "figure: terminate-busy: once exited $(($(now_ms) - t_term)) ms after pg_terminate_backend"
	ok "$t: once ended within 2 s of the termination"
else
	fail "$t: once still running 2 s after the termination"
	wait "$opid" || rc=$?
fi
assert_eq 3 "$rc" "$t: once exits 3 (UNKNOWN)"
snapshot "$d/out"
assert_eq error "$(snap_get victim 2)" "$t: the terminated check is error"
err=$(snap_get victim 5)
if [[ $err == *"terminating connection due to administrator command"* ]] ||
	[[ $err == *"server closed the connection"* ]]; then
	ok "$t: the error has the server's message [$err]"
else
	fail "$t: the error does not say why: [$err]"
fi
assert_file_absent "$d/out/victim.csv" "$t: no file for the terminated check"
for c in before after; do
	assert_eq findings "$(snap_get "$c" 2)" "$t: $c is unaffected (findings)"
done
copy_csv "SELECT 'a' AS a, 1 AS n" "$d/before.expected" || die "reference COPY failed"
assert_files_equal "$d/before.expected" "$d/out/before.csv" "$t: before.csv equals COPY"
copy_csv "SELECT g FROM generate_series(1, 3) g" "$d/after.expected" || die "reference COPY failed"
assert_files_equal "$d/after.expected" "$d/out/after.csv" "$t: after.csv equals COPY"

# ===========================================================================
# 4. pg_terminate_backend of idle connections: the pool refills
# ===========================================================================
scenario terminate-idle
write_config "$conf" "$d/out" 1s 3 min_connections=2
add_check "$conf" q1 "SELECT 1 AS one"
add_check "$conf" q2 "SELECT 2 AS two"
start_daemon "$conf" "$log"
# Right after a round ends the connections are idle for most of a second.
rounds() { grep -c '] info: round [0-9]*:' "$log" 2>/dev/null || true; }
two_sessions() { [ "$(sessions pghealthd)" -ge 2 ]; }
wait_for "$(slow_ms 5000)" two_sessions || fail "$t: min_connections = 2 never reached (saw $(sessions pghealthd))"
n0=$(rounds)
next_round() { [ "$(rounds)" -gt "$n0" ]; }
wait_for "$(slow_ms 3000)" next_round || fail "$t: no round completed"
t_term=$(now_ms)
killed=$(q "WITH v AS MATERIALIZED (SELECT pid FROM pg_stat_activity
		WHERE application_name = 'pghealthd' AND state = 'idle')
	SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM v")
echo "# $t: terminated $killed idle pghealthd backends"
assert_le 2 "$killed" "$t: the pool held at least min_connections = 2 idle connections to terminate"
lost_all() { [ "$(grep -c 'connection lost while idle' "$log")" -ge "$killed" ]; }
expect_within 2000 "$t: the daemon logs each lost idle connection ($killed)" \
	"$t: fewer 'connection lost while idle' lines than the $killed terminated connections" lost_all ||
	echo "#   $(grep -c 'connection lost while idle' "$log") such lines"
refilled() { [ "$(sessions pghealthd)" -ge 1 ] && status_all "$d/out" findings "$t_term" q1 q2; }
if expect_within 3000 "$t: connections again and a fresh status.csv without errors within 3 s" \
	"$t: no recovery within 3 s" refilled; then
	echo "figure: terminate-idle: pool and a clean round back ${waited_ms} ms after terminating $killed idle backends"
else
	echo "#   sessions $(sessions pghealthd), status [$snap]"
fi
wait_for "$(slow_ms 3000)" two_sessions || true
assert_le 2 "$(sessions pghealthd)" "$t: the pool is back to min_connections = 2"
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon is still running"
stop_daemon "$dpid" 3000 "$t" "$log"

finish
