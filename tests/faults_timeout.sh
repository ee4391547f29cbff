#!/bin/bash
# Fault injection, queries that overrun their timeout, on a real server:
#
#  1. timeout: the server's statement_timeout ends a check; the query is gone
#     from pg_stat_activity within 1 s after its deadline
#  2. drop and replace: a frozen backend (SIGSTOP) answers neither the
#     statement_timeout nor the cancel; the connection is dropped 2 s after
#     the client deadline and the daemon keeps working
#
# Needs root (it signals server backends).  Times are printed as "figure:
# ..." lines.  Every time bound is multiplied by $PGH_SLOW (see lib.sh).
# The other fault groups: faults_terminate, faults_server, faults_load,
# faults_disk, faults_signals.
#
# Run alone: meson test -C build faults_timeout
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults_timeout.sh
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup faults_timeout root
umask 022

# ===========================================================================
# 1. Timeout: statement_timeout on the server, the query gone in time
# ===========================================================================
scenario timeout
write_config "$conf" "$d/out" 60s 3
add_check "$conf" sleeper "SELECT pg_sleep(5)" "timeout = 1s"
add_check "$conf" quick "SELECT 1 AS one"
sampler_start s1 30 pghealthd '%pg_sleep(5)%' "$d/samples"
t0=$(now_ms)
run_once "$conf" 3 "$t: a timed-out check makes the round UNKNOWN"
sampler_stop s1 "$d/samples"
snapshot "$d/out"
assert_eq timeout "$(snap_get sleeper 2)" "$t: sleeper state is timeout"
assert_contains "$(snap_get sleeper 5)" "statement timeout" "$t: sleeper error mentions the statement timeout"
assert_eq "findings|1" "$(snap_get quick 2)|$(snap_get quick 3)" "$t: the quick check is unaffected (findings, 1 row)"
assert_file_absent "$d/out/sleeper.csv" "$t: no file for the timed-out check"
assert_le "$pgh_wall_ms" "$(slow_ms 3000)" "$t: once ends ${pgh_wall_ms} ms after start, not after the 5 s query"
# When the sleeper was last seen running, and first seen gone.
read -r seen last gone < <(awk '
	NF == 3 && $3 > 0 { if (first == "") first = $1; last = $1; gone = "" }
	NF == 3 && $3 == 0 && last != "" && gone == "" { gone = $1 }
	END { print (first == "" ? "none" : first), (last == "" ? "none" : last), (gone == "" ? "never" : gone) }' "$d/samples")
assert_ne none "$seen" "$t: the sampler saw the sleeping query run ($(wc -l <"$d/samples") samples)"
if [[ $gone =~ ^[0-9]+$ ]]; then
	echo "figure: timeout: sleeper last seen active at +$((last - t0)) ms, gone at +$((gone - t0)) ms after start (timeout 1000 ms; bound 2000 ms)"
	assert_le $((gone - t0)) "$(slow_ms 2000)" "$t: the query left pg_stat_activity within 1 s after its deadline"
else
	fail "$t: the sleeping query never left pg_stat_activity while sampled (last seen $last)"
fi
echo "figure: timeout: once wall time ${pgh_wall_ms} ms, sleeper duration_ms $(status_sql "$d/out" "SELECT duration_ms FROM status WHERE \"check\" = 'sleeper'")"

# ===========================================================================
# 2. Drop and replace: a frozen backend answers neither layer
# ===========================================================================
scenario drop
write_config "$conf" "$d/out" 1s 5
add_check "$conf" sleeper "SELECT pg_sleep(30)" "timeout = 1s"
add_check "$conf" quick "SELECT 1 AS one"
start_daemon "$conf" "$log"
drop_pid=$dpid

# A run of the sleeper whose query started less than 500 ms ago: freeze it
# before its statement_timeout (1 s) can fire.
find_fresh_sleeper() {
	local r
	r=$(q "SELECT pid, (extract(epoch FROM query_start) * 1000)::bigint
		FROM pg_stat_activity
		WHERE application_name = 'pghealthd' AND state = 'active'
		  AND query LIKE '%pg_sleep(30)%'
		  AND clock_timestamp() - query_start < interval '500 ms'
		LIMIT 1") || return 1
	[ -n "$r" ] || return 1
	IFS='|' read -r victim qstart <<<"$r"
	kill -STOP "$victim" || return 1
	frozen_pids+=("$victim")
}
victim=""
qstart=""
if ! wait_for "$(slow_ms 8000)" find_fresh_sleeper; then
	fail "$t: found no fresh run of the sleeper to freeze"
	show_log "$log"
else
	t_stop=$(now_ms)
	echo "# $t: froze backend $victim $((t_stop - qstart)) ms after its query started"
	quick_seen=()
	sleeper_seen=""
	sample_quick() {
		local s
		snapshot "$d/out"
		s=$(snap_get sleeper 2)
		[ -z "$s" ] || [[ $sleeper_seen == *"$s" ]] || sleeper_seen+=" $s"
		s=$(snap_get quick 4)
		if [ -n "$s" ] && [ "$s" -gt "$t_stop" ]; then
			case " ${quick_seen[*]} " in
			*" $s "*) ;;
			*) quick_seen+=("$s") ;;
			esac
		fi
		log_has "$log" "dropping the connection"
	}
	if expect_within 6000 "$t: the daemon logs that it dropped the connection" \
		"$t: no 'dropping the connection' in the log $(slow_ms 6000) ms after freezing" sample_quick; then
		drop_at=$(log_time_ms "$log" "dropping the connection")
		[ -n "$drop_at" ] || drop_at=$(now_ms)
		echo "figure: drop: connection dropped at +$((drop_at - qstart)) ms after the query started (expected 1000 + 500 + 2000 = 3500)"
		assert_le 3000 $((drop_at - qstart)) "$t: not dropped before deadline + 2 s grace"
		assert_le $((drop_at - qstart)) "$(slow_ms 6000)" "$t: dropped within 6 s of the query start"
	fi
	echo "# $t: sleeper states in status.csv from the freeze to the drop:${sleeper_seen}"
	echo "figure: drop: ${#quick_seen[@]} fresh runs of the quick check while the sleeper's backend was frozen"
	assert_le 2 "${#quick_seen[@]}" "$t: the quick check keeps running while the sleeper is stuck"
	# The frozen run's own result: a timeout, after more than deadline + grace.
	stuck_line=$(grep -F "check sleeper: timeout after" "$log" | awk '{
		for (i = 1; i < NF; i++) if ($i == "after") { ms = $(i + 1); if (ms + 0 >= 3000) { print; exit } } }')
	assert_ne "" "$stuck_line" "$t: the frozen run ends as a timeout (log: check sleeper: timeout after >= 3000 ms)"
	echo "# $t: ${stuck_line:-no such line}"
	sleeper_timeout_after() {
		snapshot "$d/out"
		[ "$(snap_get sleeper 2)" = timeout ] && [ "$(snap_get sleeper 4)" -ge $((qstart - 1000)) ] 2>/dev/null
	}
	# Within 6 s of the query start, like the drop itself (at least 0.5 s).
	left=$((qstart + $(slow_ms 6000) - $(now_ms)))
	[ "$left" -ge 500 ] || left=500
	if wait_for "$left" sleeper_timeout_after; then
		echo "# $t: status.csv: $(grep '^sleeper|' <<<"$snap")"
		ok "$t: status.csv shows the sleeper as timeout"
	else
		fail "$t: status.csv does not show the sleeper as timeout $(($(now_ms) - qstart)) ms after the query started: [$(grep '^sleeper|' <<<"$snap")]"
	fi
	t_after=$(now_ms)
	expect_within 2500 "$t: after the drop the quick check still gets fresh runs" \
		"$t: no fresh run of the quick check after the drop" \
		status_all "$d/out" findings "$t_after" quick || echo "#   status.csv: [$(grep '^quick|' <<<"$snap")]"
	assert_eq 0 "$(alive "$drop_pid" && echo 0 || echo 1)" "$t: the daemon is still running"
	kill -CONT "$victim" 2>/dev/null || true
fi
stop_daemon "$drop_pid" 3000 "$t" "$log"

finish
