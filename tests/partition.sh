#!/bin/bash
# Partitions and dead hosts: the server behind a silent network (its end of
# the link set down, permanent neighbour entries: no RST, no ICMP).  See
# netns-lib.sh for the fixture.  Each scenario does the real fault:
#
#  1. sigterm: SIGTERM to `run` while a query waits on the silent server
#     exits within 4 s (the cancel's 2 s deadline and the linger)
#  2. once: a blackhole while the checks run; `once` exits by itself within
#     timeout + connect_timeout, UNKNOWN, status.csv naming the server
#  3. exec: `exec --timeout 5s` with a blackhole mid-query ends within 9 s;
#     the message names the server, not a statement timeout
#  4. between_rounds: a blackhole between rounds (idle pooled sockets die
#     silently); connection attempts go on every round, the first round
#     after the lift works, and no check reported `timeout` ever reaches
#     the server later (a sequence counts the executions)
#  5. failover: host=a,b with a blackholed reaches b within connect_timeout
#     plus a second; target_session_attrs is honoured on every host
#  6. setup: a blackhole during the session setup
#  7. big_result: a blackhole while a large result streams in: no partial
#     file, no temp file
#  8. flapping: the link down and up every 2 s for 16 s: rounds go on, the
#     daemon recovers, nothing is left behind
#
# Needs root and network namespaces; skipped (exit 77, with the reason)
# where they cannot be made.  PGH_BLACKHOLE_S sets the between-rounds
# blackhole (default 15).  Figures are printed as "figure: ..." lines.
#
# Run alone: meson test -C build partition
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns-lib.sh
. "$here/netns-lib.sh"
netns_usable || skip_test "network namespaces cannot be made here: $netns_why"
test_setup partition root ip nsenter
trap 'netns_cleanup; cleanup' EXIT
umask 022
netns_setup

# A configuration over link a: connect_timeout 3 s unless told otherwise.
net_config() { # FILE OUTDIR INTERVAL KEY=VALUE...
	write_config "$1" "$2" "$3" 2 "conninfo=$netns_conninfo" connect_timeout=3s "${@:4}"
}

# Wait until a query matching PATTERN runs on the server.
running() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '$1' AND state = 'active'")" -ge 1 ]; }

# ===========================================================================
# 1. SIGTERM during the blackhole
# ===========================================================================
scenario sigterm
net_config "$conf" "$d/out" 60s
add_check "$conf" sleeper "SELECT pg_sleep(60) AS s" "timeout = 50s"
start_daemon "$conf" "$log"
expect_within 5000 "$t: the query runs" "$t: the query never started" running '%pg_sleep(60)%' || true
blackhole a
sleep 1
stop_daemon "$dpid" 4000 "$t: SIGTERM during the blackhole" "$log"
echo "figure: sigterm: exit ${exit_ms} ms after SIGTERM (bound 4000 ms)"
lift a

# ===========================================================================
# 2. once: a blackhole while the checks run (timeout 4 s, connect_timeout 5 s)
# ===========================================================================
scenario once
net_config "$conf" "$d/out" 60s connect_timeout=5s
add_check "$conf" sleeper "SELECT pg_sleep(30) AS s" "timeout = 4s"
add_check "$conf" quick "SELECT 1 AS one"
(sleep 1 && blackhole a) &
run_once "$conf" 3 "$t: a blackhole while the checks run makes the round UNKNOWN"
wait
echo "figure: once: exit after ${pgh_wall_ms} ms (timeout 4000 + connect_timeout 5000)"
assert_le "$pgh_wall_ms" "$(slow_ms 9500)" "$t: once exits within timeout + connect_timeout (${pgh_wall_ms} ms)"
snapshot_offline "$d/out"
assert_eq timeout "$(snap_get sleeper 2)" "$t: the sleeper is a timeout"
assert_contains "$(snap_get sleeper 5)" "$srv_a" "$t: status.csv names the silent server"
assert_contains "$(snap_get sleeper 5)" "the network or the host is down" "$t: status.csv says the server went silent"
assert_no_tmp_files "$d/out" "$t: no temp file left"
lift a

# ===========================================================================
# 3. exec --timeout 5s, a blackhole mid-query
# ===========================================================================
scenario exec
net_config "$conf" "$d/out" 60s
(sleep 1 && blackhole a) &
t0=$(now_ms)
rc=0
out=$(pgh -c "$conf" exec --timeout 5s "SELECT pg_sleep(30)" 2>"$d/err") || rc=$?
t1=$(now_ms)
wait
echo "figure: exec: exit after $((t1 - t0)) ms (timeout 5000)"
assert_eq 1 "$rc" "$t: exec exits 1"
assert_le $((t1 - t0)) "$(slow_ms 9000)" "$t: exec ends within 9 s ($((t1 - t0)) ms)"
msg=$(jq -r .message <<<"$out")
assert_contains "$msg" "$srv_a" "$t: the message names the server ($msg)"
if [[ $msg == *"statement timeout"* ]]; then
	fail "$t: the message blames a statement timeout: $msg"
else
	ok "$t: the message does not blame a statement timeout"
fi
lift a

# ===========================================================================
# 4. A blackhole between rounds
# ===========================================================================
scenario between_rounds
hole_s=${PGH_BLACKHOLE_S:-15}
q "CREATE SEQUENCE IF NOT EXISTS partition_seq" >/dev/null
net_config "$conf" "$d/out" 5s connect_timeout=2s history=1000 log_level=debug
add_check "$conf" counter "SELECT nextval('partition_seq') AS n" "timeout = 2s"
start_daemon "$conf" "$log"
since=$(now_ms)
expect_within 8000 "$t: a first round works" "$t: no first round" \
	status_all "$d/out" findings "$since" counter || true
sleep 2
blackhole a
hole_t0=$(now_ms)
sleep "$hole_s"
attempts=$(grep -c "timeout expired after" "$log" || true)
lift a
lift_t=$(now_ms)
echo "figure: between_rounds: $attempts connection attempts timed out during the ${hole_s} s blackhole"
assert_le $((hole_s / 10)) "$attempts" "$t: connection attempts go on during the blackhole ($attempts in ${hole_s} s)"
snapshot_offline "$d/out"
assert_contains "$(snap_get counter 5)" "$srv_a" "$t: status.csv names the server during the outage"
grep -E 'warning: conn [0-9]+: connection.*failed' "$log" | tail -n 1 | grep -qF "$srv_a" &&
	ok "$t: the log says at warning which server failed" ||
	fail "$t: no warning names the server"
expect_within 12000 "$t: the first rounds after the lift work" "$t: no good round within 12 s of the lift" \
	status_all "$d/out" findings "$lift_t" counter || true
echo "figure: between_rounds: a round works $((waited_ms)) ms after the lift (blackhole ${hole_s} s)"
sleep 6
stop_daemon "$dpid" 4000 "$t: stop" "$log"
# Every execution was reported: the values in the files are 1..last_value.
last=$(q "SELECT last_value FROM partition_seq")
seen=$(cat "$d"/out/history/counter/*.csv "$d/out/counter.csv" 2>/dev/null | grep -vx n | sort -un | wc -l)
assert_eq "$last" "$seen" "$t: the server ran the check $last times, $seen of them reported: no late execution"
expect_within 10000 "$t: no session of pghealthd left on the server" "$t: sessions left: $(net_sessions)" \
	test "$(net_sessions)" = 0 || true
echo "figure: between_rounds: hole started at +$((hole_t0 - since)) ms; sessions gone ${waited_ms} ms after stop"

# ===========================================================================
# 5. Failover: host=a,b with a blackholed
# ===========================================================================
scenario failover
blackhole a
ci="host=$srv_a,$srv_b port=$PGPORT dbname=$PGDATABASE user=$PGUSER"
net_config "$conf" "$d/out" 60s "conninfo=$ci"
add_check "$conf" one "SELECT 1 AS one"
run_once "$conf" 0 "$t: the round works on the second host"
echo "figure: failover: once on host=a,b with a blackholed: ${pgh_wall_ms} ms (connect_timeout 3000)"
assert_le "$pgh_wall_ms" "$(slow_ms 5000)" "$t: reaches host b within connect_timeout + 2 s (${pgh_wall_ms} ms)"
assert_contains "$(cat "$conf.stderr")" "\"$srv_a\", port $PGPORT failed: timeout expired" \
	"$t: the log names the host that failed and why"
t0=$(now_ms)
in_client psql -X -At -c "SELECT 1" "$ci connect_timeout=3" >/dev/null 2>&1 || true
echo "figure: failover: psql with the same conninfo (connect_timeout=3): $(($(now_ms) - t0)) ms"
net_config "$conf" "$d/out" 60s "conninfo=$ci target_session_attrs=read-write"
add_check "$conf" one "SELECT 1 AS one"
run_once "$conf" 0 "$t: target_session_attrs=read-write: the round works on host b"
net_config "$conf" "$d/out" 60s "conninfo=$ci target_session_attrs=standby"
add_check "$conf" one "SELECT 1 AS one"
run_once "$conf" 3 "$t: target_session_attrs=standby: no host qualifies, UNKNOWN"
snapshot_offline "$d/out"
assert_contains "$(snap_get one 5)" "$srv_a" "$t: the error names host a"
assert_contains "$(snap_get one 5)" "$srv_b" "$t: the error names host b"
assert_contains "$(snap_get one 5)" "standby" "$t: the error says b is not a standby"
lift a

# ===========================================================================
# 6. A blackhole during the session setup
# ===========================================================================
scenario setup
net_config "$conf" "$d/out" 60s "session_sql=SELECT pg_sleep(2)"
add_check "$conf" one "SELECT 1 AS one" "timeout = 3s"
(sleep 0.7 && blackhole a) &
run_once "$conf" 3 "$t: a blackhole during the setup makes the round UNKNOWN"
wait
echo "figure: setup: once exits after ${pgh_wall_ms} ms (timeout 3000 + connect_timeout 3000)"
assert_le "$pgh_wall_ms" "$(slow_ms 6500)" "$t: once exits within timeout + connect_timeout"
snapshot_offline "$d/out"
assert_contains "$(snap_get one 5)" "$srv_a" "$t: status.csv names the server"
assert_contains "$(snap_get one 5)" "session setup" "$t: status.csv says the setup did not answer"
lift a

# ===========================================================================
# 7. A blackhole while a large result streams in
# ===========================================================================
scenario big_result
net_config "$conf" "$d/out" 60s
add_check "$conf" big "SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 5000000) g" \
	"timeout = 8s"
add_check "$conf" quick "SELECT 1 AS one"
pgh_bg "$d/once.log" -c "$conf" once
opid=$pgh_pid
started_pids+=("$opid")
t0=$(now_ms)
grows() { [ -n "$(find "$d/out" -name '.*.tmp' -size +1M 2>/dev/null)" ]; }
expect_within 6000 "$t: the result streams into a temp file" "$t: no temp file grows" grows || true
blackhole a
expect_within 13000 "$t: once ends by itself" "$t: once still runs" not_alive "$opid" || true
rc=0
wait "$opid" || rc=$?
echo "figure: big_result: once exits after $(($(now_ms) - t0)) ms (timeout 8000)"
assert_eq 3 "$rc" "$t: UNKNOWN"
assert_file_absent "$d/out/big.csv" "$t: no partial result file"
assert_no_tmp_files "$d/out" "$t: no temp file left"
snapshot_offline "$d/out"
assert_eq timeout "$(snap_get big 2)" "$t: the big check is a timeout"
lift a

# ===========================================================================
# 8. A flapping link: down and up every 2 s for 16 s
# ===========================================================================
scenario flapping
net_config "$conf" "$d/out" 2s connect_timeout=2s
add_check "$conf" one "SELECT 1 AS one" "timeout = 3s"
add_check "$conf" rows "SELECT g FROM generate_series(1, 1000) g" "timeout = 3s"
start_daemon "$conf" "$log"
for _ in $(seq 1 4); do
	blackhole a
	sleep 2
	lift a
	sleep 2
done
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon runs through the flapping"
lift_t=$(now_ms)
expect_within 12000 "$t: rounds work again after the flapping" "$t: no good round after the flapping" \
	status_all "$d/out" findings "$lift_t" one rows || true
echo "figure: flapping: a round works ${waited_ms} ms after the last lift"
stop_daemon "$dpid" 4000 "$t: stop" "$log"
assert_no_tmp_files "$d/out" "$t: no temp file left"
assert_eq 1001 "$(wc -l <"$d/out/rows.csv")" "$t: the rows file is whole"
expect_within 10000 "$t: no session of pghealthd left on the server" "$t: sessions left: $(net_sessions)" \
	test "$(net_sessions)" = 0 || true

finish
