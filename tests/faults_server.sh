#!/bin/bash
# Fault injection, the server goes away:
#
#  5. server stopped and started under a running daemon: errors, no spinning,
#     quick recovery, the pool bound holds
#  6. multi-host conninfo whose first host refuses; only a refusing host
#
# Times are printed as "figure: ..." lines.  Every time bound is multiplied
# by $PGH_SLOW (see lib.sh).  The other fault groups: faults_timeout,
# faults_terminate, faults_load, faults_disk, faults_signals.
#
# Run alone: meson test -C build faults_server
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults_server.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup faults_server
umask 022
if [ -z "${PGH_FIXTURE:-}" ] || [ -z "${PGH_FIXTURE_DIR:-}" ]; then
	die "PGH_FIXTURE/PGH_FIXTURE_DIR not set: run this test as tests/with-pg.sh $0"
fi

# ===========================================================================
# 5. Server stopped and started under a running daemon
# ===========================================================================
scenario server-restart
maxc=3
write_config "$conf" "$d/out" 1s $maxc
checks5=(q1 q2 q3)
for c in "${checks5[@]}"; do
	add_check "$conf" "$c" "SELECT '$c' AS name, pg_sleep(0.02)"
done
start_daemon "$conf" "$log"
t_begin=$(now_ms)
wait_for "$(slow_ms 5000)" status_all "$d/out" findings "$t_begin" "${checks5[@]}" ||
	fail "$t: no clean first round"
# A sampler that survives the outage: one psql per sample.
(
	while [ ! -e "$d/sampler.stop" ]; do
		q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pghealthd'" || true
		sleep 0.05
	done
) >"$d/samples" 2>/dev/null &
bg_sampler=$!
started_pids+=("$bg_sampler")
# status.csv is read without the server until it is back.
snap_with=snapshot_offline
t_stopcmd=$(now_ms)
"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "could not stop the server"
t_down=$(now_ms)
cpu0=$(cpu_ms "$dpid") || cpu0=""
if wait_for "$(slow_ms 3000)" status_all "$d/out" error "$t_down" "${checks5[@]}"; then
	ok "$t: checks become error while the server is down (after ${waited_ms} ms)"
	assert_contains "$(snap_get q1 5)" "could not connect" "$t: the error says could not connect"
else
	fail "$t: checks did not all become error: [$snap]"
fi
# The rest of a 3 s outage.
rest=$((t_down + 3000 - $(now_ms)))
[ "$rest" -le 0 ] || sleep "$(awk -v m="$rest" 'BEGIN { printf "%.3f", m / 1000 }')"
cpu1=$(cpu_ms "$dpid") || cpu1=""
t_up0=$(now_ms)
outage=$((t_up0 - t_down))
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon stays up during the outage"
if [ -n "$cpu0" ] && [ -n "$cpu1" ]; then
	echo "figure: server-restart: daemon CPU time during the ${outage} ms outage: $((cpu1 - cpu0)) ms; connection attempts failed: $(grep -c 'connection failed' "$log")"
	assert_le $((cpu1 - cpu0)) "$(slow_ms 500)" "$t: no spinning during the outage (CPU $((cpu1 - cpu0)) ms)"
else
	fail "$t: could not read the daemon's CPU time"
fi
"$PGH_FIXTURE" startserver "$PGH_FIXTURE_DIR" >/dev/null || die "could not start the server again"
t_up=$(now_ms)
snap_with=snapshot
if expect_within 3000 "$t: a clean round within 3 s after the server is back" \
	"$t: no clean round $(slow_ms 3000) ms after the server came back" \
	status_all "$d/out" findings "$t_up" "${checks5[@]}"; then
	echo "figure: server-restart: clean round ${waited_ms} ms after the server was back (pg_ctl start took $((t_up - t_up0)) ms)"
else
	echo "#   status.csv: [$snap]"
	show_log "$log" 25
fi
grep -F 'connection failed' "$log" | while IFS= read -r line; do
	echo "# $t: +$(($(date -d "${line:0:23}" +%s%3N) - t_stopcmd)) ms: $(cut -c 25- <<<"$line" | cut -c 1-100)"
done
echo "# $t: (from the stop command) server down at +$((t_down - t_stopcmd)) ms, back at +$((t_up - t_stopcmd)) ms"
sleep 1
: >"$d/sampler.stop"
wait "$bg_sampler" || true
max_seen=$(sort -n "$d/samples" | tail -n 1)
echo "figure: server-restart: max pghealthd sessions seen ${max_seen:-?} in $(wc -l <"$d/samples") samples"
assert_match '^[0-9]+$' "${max_seen:-}" "$t: the session sampler worked"
[[ ${max_seen:-} =~ ^[0-9]+$ ]] && assert_le "$max_seen" "$maxc" "$t: never more than max_connections = $maxc sessions"
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon is still running"
stop_daemon "$dpid" 3000 "$t" "$log"

# ===========================================================================
# 6. Multi-host conninfo whose first host refuses
# ===========================================================================
scenario multi-host
dead=$(free_port)
conf=$d/both.ini
write_config "$conf" "$d/out" 60s 2 \
	"conninfo=host=127.0.0.1,127.0.0.1 port=$dead,$PGPORT dbname=$PGDATABASE user=$PGUSER"
add_check "$conf" hosts "SELECT 'second host' AS answer, 42 AS n"
run_once "$conf" 0 "$t: first host refuses, the second answers"
copy_csv "SELECT 'second host' AS answer, 42 AS n" "$d/hosts.expected" || die "reference COPY failed"
assert_files_equal "$d/hosts.expected" "$d/out/hosts.csv" "$t: hosts.csv equals COPY"
conf=$d/refused.ini
write_config "$conf" "$d/out2" 60s 2 "conninfo=host=127.0.0.1 port=$dead dbname=$PGDATABASE user=$PGUSER"
add_check "$conf" hosts "SELECT 1 AS one"
run_once "$conf" 3 "$t: only a refusing host"
assert_le "$pgh_wall_ms" "$(slow_ms 3000)" "$t: a refused connection fails fast (${pgh_wall_ms} ms)"
snapshot "$d/out2"
assert_eq error "$(snap_get hosts 2)" "$t: the check is error"
assert_contains "$(snap_get hosts 5)" "could not connect" "$t: the error says could not connect"
assert_contains "$(snap_get hosts 5)" "Connection refused" "$t: the error says Connection refused"

finish
