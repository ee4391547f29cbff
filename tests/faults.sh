#!/bin/bash
# Fault injection on a real server: every fault below is made for real
# (statement timeouts, a frozen backend, pg_terminate_backend, a stopped
# server, a refused host, a flood of checks, a read-only / full / vanished
# output directory, signals) and the daemon's reaction is measured.
#
#  1. timeout: the server's statement_timeout ends a check; the query is gone
#     from pg_stat_activity within 1 s after its deadline
#  2. drop and replace: a frozen backend (SIGSTOP) answers neither the
#     statement_timeout nor the cancel; the connection is dropped 2 s after
#     the client deadline and the daemon keeps working
#  3. pg_terminate_backend of a busy connection: that check fails, others not
#  4. pg_terminate_backend of idle connections: the pool refills itself
#  5. server stopped and started under a running daemon: errors, no spinning,
#     quick recovery, the pool bound holds
#  6. multi-host conninfo whose first host refuses; only a refusing host
#  7. no pile-up: 500 checks on 5 connections; rounds longer than the
#     interval are delayed, never skipped
#  8. output directory faults (tmpfs): read-only, full (ENOSPC), removed
#  9. SIGTERM with a query in flight
# 10. SIGHUP: a new check and application_name; a broken configuration
#
# Needs root (it mounts tmpfs file systems and signals server backends).
# Times are printed as "figure: ..." lines.  Every time bound is multiplied
# by $PGH_SLOW (see lib.sh).
#
# Run: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults.sh
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
require_env
[ "$(id -u)" -eq 0 ] || die "faults.sh must run as root (tmpfs mounts, signals to server backends)"
for tool in mount umount mountpoint; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (package mount / util-linux)"
done
if [ -z "${PGH_FIXTURE:-}" ] || [ -z "${PGH_FIXTURE_DIR:-}" ]; then
	die "PGH_FIXTURE/PGH_FIXTURE_DIR not set: run this test as tests/with-pg.sh $0"
fi
umask 022

work=$PGH_TEST_TMP/faults
mkdir -p "$work"

# shellcheck source=tests/daemon-lib.sh
. "$here/daemon-lib.sh"

# An in-server sampler: one session re-reads pg_stat_activity every 20 ms
# and returns, per sample, the time (epoch ms), the number of sessions named
# APP and how many of them run a query LIKE PATTERN, until a row with its
# TAG appears in sampler_stop (or MAX_SECONDS pass).
pgsql >/dev/null <<'EOF' || die "sampler setup failed"
CREATE TABLE sampler_stop (tag text);
CREATE FUNCTION pgh_sample(p_tag text, max_seconds float8, app text, pattern text)
RETURNS TABLE (t_ms bigint, n_sessions int, n_matching int)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint, count(*),
               count(*) FILTER (WHERE a.state = 'active' AND a.query LIKE pattern)
          INTO t_ms, n_sessions, n_matching
          FROM pg_stat_activity a WHERE a.application_name = app;
        RETURN NEXT;
        EXIT WHEN EXISTS (SELECT 1 FROM sampler_stop s WHERE s.tag = p_tag)
            OR clock_timestamp() - t0 > make_interval(secs => max_seconds);
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;
EOF

sampler_running() { # TAG
	[ "$(q "SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE '%pgh_sample(''$1''%' AND pid <> pg_backend_pid()")" = 1 ]
}

sampler_start() { # TAG MAX_SECONDS APP PATTERN OUTFILE
	pgsql -F' ' -c "SELECT * FROM pgh_sample('$1', $2, '$3', '$4')" >"$5" 2>&1 &
	sampler_pid=$!
	started_pids+=("$sampler_pid")
	wait_for 5000 sampler_running "$1" || die "sampler $1 did not start: $(cat "$5")"
}

sampler_stop() { # TAG OUTFILE
	pgsql -c "INSERT INTO sampler_stop VALUES ('$1')" || fail "could not stop sampler $1"
	wait "$sampler_pid" || fail "sampler $1 failed: $(head -c 300 "$2")"
}

# Maximum of column N (2 sessions, 3 matching) of a sampler's output.
sample_max() { # FILE N
	awk -v n="$2" 'BEGIN { m = 0 } NF == 3 && $n > m { m = $n } END { print m }' "$1"
}

# Remount MOUNTPOINT with OPTIONS; a remount to read-only fails with EBUSY
# while a file is open for writing, so retry for a while.
remount() { # MOUNTPOINT OPTIONS
	local i
	for i in $(seq 1 100); do
		mount -o "remount,$2" "$1" 2>/dev/null && return 0
		: "$i"
		sleep 0.02
	done
	mount -o "remount,$2" "$1"
}

# ===========================================================================
# 1. Timeout: statement_timeout on the server, the query gone in time
# ===========================================================================
t=timeout
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
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
t=drop
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/daemon.log
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
	if wait_for "$(slow_ms 6000)" sample_quick; then
		drop_at=$(log_time_ms "$log" "dropping the connection")
		[ -n "$drop_at" ] || drop_at=$(now_ms)
		echo "figure: drop: connection dropped at +$((drop_at - qstart)) ms after the query started (expected 1000 + 500 + 2000 = 3500)"
		ok "$t: the daemon logs that it dropped the connection"
		assert_le 3000 $((drop_at - qstart)) "$t: not dropped before deadline + 2 s grace"
		assert_le $((drop_at - qstart)) "$(slow_ms 6000)" "$t: dropped within 6 s of the query start"
	else
		fail "$t: no 'dropping the connection' in the log $(slow_ms 6000) ms after freezing"
		show_log "$log"
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
	if wait_for "$(slow_ms 2500)" status_all "$d/out" findings "$t_after" quick; then
		ok "$t: after the drop the quick check still gets fresh runs"
	else
		fail "$t: no fresh run of the quick check after the drop: [$(grep '^quick|' <<<"$snap")]"
	fi
	assert_eq 0 "$(alive "$drop_pid" && echo 0 || echo 1)" "$t: the daemon is still running"
	kill -CONT "$victim" 2>/dev/null || true
fi
stop_daemon "$drop_pid" 3000 "$t" "$log"

# ===========================================================================
# 3. pg_terminate_backend of a busy connection
# ===========================================================================
t=terminate-busy
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/once.log
write_config "$conf" "$d/out" 60s 3
add_check "$conf" before "SELECT 'a' AS a, 1 AS n"
add_check "$conf" victim "SELECT pg_sleep(3)"
add_check "$conf" after "SELECT g FROM generate_series(1, 3) g"
t0=$(now_ms)
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
t=terminate-idle
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/daemon.log
write_config "$conf" "$d/out" 1s 3 2
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
if wait_for "$(slow_ms 2000)" lost_all; then
	ok "$t: the daemon logs each lost idle connection ($killed)"
else
	fail "$t: $(grep -c 'connection lost while idle' "$log") 'connection lost while idle' lines for $killed terminated connections"
	show_log "$log"
fi
refilled() { [ "$(sessions pghealthd)" -ge 1 ] && status_all "$d/out" findings "$t_term" q1 q2; }
if wait_for "$(slow_ms 3000)" refilled; then
	echo "figure: terminate-idle: pool and a clean round back ${waited_ms} ms after terminating $killed idle backends"
	ok "$t: connections again and a fresh status.csv without errors within 3 s"
else
	fail "$t: no recovery within 3 s: sessions $(sessions pghealthd), status [$snap]"
	show_log "$log"
fi
wait_for "$(slow_ms 3000)" two_sessions || true
assert_le 2 "$(sessions pghealthd)" "$t: the pool is back to min_connections = 2"
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon is still running"
stop_daemon "$dpid" 3000 "$t" "$log"

# ===========================================================================
# 5. Server stopped and started under a running daemon
# ===========================================================================
t=server-restart
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/daemon.log
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
if wait_for "$(slow_ms 6000)" status_all "$d/out" findings "$t_up" "${checks5[@]}"; then
	echo "figure: server-restart: clean round ${waited_ms} ms after the server was back (pg_ctl start took $((t_up - t_up0)) ms)"
	ok "$t: a clean round within 6 s after the server is back"
else
	fail "$t: no clean round $(slow_ms 6000) ms after the server came back: [$snap]"
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
t=multi-host
d=$work/$t
mkdir -p "$d"
dead=$(free_port)
conf=$d/both.ini
write_config "$conf" "$d/out" 60s 2 1 pghealthd \
	"host=127.0.0.1,127.0.0.1 port=$dead,$PGPORT dbname=$PGDATABASE user=$PGUSER"
add_check "$conf" hosts "SELECT 'second host' AS answer, 42 AS n"
run_once "$conf" 0 "$t: first host refuses, the second answers"
copy_csv "SELECT 'second host' AS answer, 42 AS n" "$d/hosts.expected" || die "reference COPY failed"
assert_files_equal "$d/hosts.expected" "$d/out/hosts.csv" "$t: hosts.csv equals COPY"
conf=$d/refused.ini
write_config "$conf" "$d/out2" 60s 2 1 pghealthd \
	"host=127.0.0.1 port=$dead dbname=$PGDATABASE user=$PGUSER"
add_check "$conf" hosts "SELECT 1 AS one"
run_once "$conf" 3 "$t: only a refusing host"
assert_le "$pgh_wall_ms" "$(slow_ms 3000)" "$t: a refused connection fails fast (${pgh_wall_ms} ms)"
snapshot "$d/out2"
assert_eq error "$(snap_get hosts 2)" "$t: the check is error"
assert_contains "$(snap_get hosts 5)" "could not connect" "$t: the error says could not connect"
assert_contains "$(snap_get hosts 5)" "Connection refused" "$t: the error says Connection refused"

# ===========================================================================
# 7. No pile-up
# ===========================================================================
t=flood
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
write_config "$conf" "$d/out" 60s 5
for i in $(seq -w 1 500); do
	printf '\n[check:c%s]\nsql = SELECT 1 AS one\n' "$i"
done >>"$conf"
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

t=overrun
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/daemon.log
write_config "$conf" "$d/out" 1s 2
for i in $(seq -w 1 200); do
	printf '\n[check:s%s]\nsql = SELECT pg_sleep(0.05)\n' "$i"
done >>"$conf"
sampler_start s7b 120 pghealthd '%' "$d/samples"
start_daemon "$conf" "$log"
t0=$(now_ms)
round1() { log_has "$log" "info: round 1:"; }
if wait_for "$(slow_ms 15000)" round1; then
	echo "figure: overrun: round 1 (200 x 50 ms on 2 connections) took ${waited_ms} ms; interval 1 s"
	ok "$t: the first round completes"
else
	fail "$t: the first round did not complete"
	show_log "$log"
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

# ===========================================================================
# 8. Output directory faults
# ===========================================================================
# (a) read-only file system under a running daemon
t=read-only
d=$work/$t
mkdir -p "$d/mnt"
mount -t tmpfs -o size=1m tmpfs "$d/mnt" || die "mount tmpfs on $d/mnt failed"
mounts+=("$d/mnt")
out=$d/mnt/out
conf=$d/pghealthd.ini
log=$d/daemon.log
q8="SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3) g"
write_config "$conf" "$out" 1s 2
add_check "$conf" rows "$q8"
start_daemon "$conf" "$log"
t0=$(now_ms)
wait_for "$(slow_ms 5000)" status_all "$out" findings "$t0" rows || fail "$t: no first round"
remount "$d/mnt" ro || die "remount read-only failed"
erofs() { log_has "$log" "Read-only file system"; }
if wait_for "$(slow_ms 3000)" erofs; then
	echo "figure: read-only: failure logged ${waited_ms} ms after remount ro"
	ok "$t: the log shows the failure: $(grep -m 1 -F 'Read-only file system' "$log" | cut -c 25-)"
else
	fail "$t: no 'Read-only file system' in the log"
	show_log "$log"
fi
sleep 1
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon stays up"
remount "$d/mnt" rw || die "remount read-write failed"
t_rw=$(now_ms)
fresh_rows() {
	status_all "$out" findings "$t_rw" rows &&
		[ "$(($(stat -c %Y "$out/rows.csv" 2>/dev/null || echo 0) * 1000))" -ge $((t_rw - 1000)) ]
}
if wait_for "$(slow_ms 3000)" fresh_rows; then
	echo "figure: read-only: fresh status.csv and rows.csv ${waited_ms} ms after remount rw"
	ok "$t: status.csv and rows.csv are fresh again"
else
	fail "$t: not fresh 3 s after remount rw: [$snap]"
	show_log "$log"
fi
copy_csv "$q8" "$d/rows.expected" || die "reference COPY failed"
assert_files_equal "$d/rows.expected" "$out/rows.csv" "$t: rows.csv equals COPY"
stop_daemon "$dpid" 3000 "$t" "$log"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"

# (b) a full file system (ENOSPC)
t=enospc
d=$work/$t
mkdir -p "$d/mnt"
mount -t tmpfs -o size=1m tmpfs "$d/mnt" || die "mount tmpfs on $d/mnt failed"
mounts+=("$d/mnt")
out=$d/mnt/out
conf=$d/pghealthd.ini
write_config "$conf" "$out" 60s 2
add_check "$conf" small "SELECT 'small' AS s, 1 AS n"
# ~5 MB; pg_sleep(0.2) in FROM lets the small check finish first.
add_check "$conf" big "SELECT repeat('x', 1000) AS filler FROM pg_sleep(0.2), generate_series(1, 5000)"
run_once "$conf" 3 "$t: a check that fills the file system makes the round UNKNOWN"
snapshot "$out"
assert_eq error "$(snap_get big 2)" "$t: the big check is error"
assert_contains "$(snap_get big 5)" "No space left on device" "$t: the error says No space left on device"
assert_file_absent "$out/big.csv" "$t: no file for the big check"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"
assert_eq findings "$(snap_get small 2)" "$t: the small check is findings"
copy_csv "SELECT 'small' AS s, 1 AS n" "$d/small.expected" || die "reference COPY failed"
assert_files_equal "$d/small.expected" "$out/small.csv" "$t: small.csv is complete (equals COPY)"
echo "figure: enospc: tmpfs use after the round: $(df -k --output=used "$d/mnt" | tail -n 1 | tr -d ' ') kB of 1024"

# (c) output_dir removed underneath a running daemon
t=removed
d=$work/$t
mkdir -p "$d"
out=$d/out
conf=$d/pghealthd.ini
log=$d/daemon.log
write_config "$conf" "$out" 1s 2
add_check "$conf" rows "$q8"
start_daemon "$conf" "$log"
t0=$(now_ms)
wait_for "$(slow_ms 5000)" status_all "$out" findings "$t0" rows || fail "$t: no first round"
rm -rf "$out"
n_before=$(grep -c 'check rows: error' "$log" || true)
rows_error() { [ "$(grep -c 'check rows: error' "$log")" -gt "$n_before" ]; }
if wait_for "$(slow_ms 3000)" rows_error; then
	ok "$t: the check fails while output_dir is gone: $(grep -F 'check rows: error' "$log" | tail -n 1 | cut -c 25-)"
else
	fail "$t: no check error logged after output_dir was removed"
	show_log "$log"
fi
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon stays up"
mkdir "$out"
t_mk=$(now_ms)
recovered() { status_all "$out" findings "$t_mk" rows && [ -f "$out/rows.csv" ]; }
if wait_for "$(slow_ms 3000)" recovered; then
	echo "figure: removed: status.csv and rows.csv back ${waited_ms} ms after mkdir"
	ok "$t: it recovers once output_dir exists again"
else
	fail "$t: no recovery 3 s after mkdir: [$snap]"
	show_log "$log"
fi
stop_daemon "$dpid" 3000 "$t" "$log"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"

# ===========================================================================
# 9. SIGTERM with a query in flight
# ===========================================================================
t=sigterm
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/daemon.log
write_config "$conf" "$d/out" 1s 3
add_check "$conf" sleeper "SELECT pg_sleep(30)" "timeout = 60s"
add_check "$conf" quick "SELECT 1 AS one"
start_daemon "$conf" "$log"
sleeper_active() {
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pghealthd'
		AND state = 'active' AND query LIKE '%pg_sleep(30)%'")" -ge 1 ]
}
wait_for "$(slow_ms 5000)" sleeper_active || fail "$t: the sleeper never ran"
sleep 0.3
stop_daemon "$dpid" 3000 "$t" "$log"
t_exit=$(now_ms)
sleeper_gone() {
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(30)%'
		AND pid <> pg_backend_pid()")" = 0 ]
}
if wait_for "$(slow_ms 1000)" sleeper_gone; then
	echo "figure: sigterm: exit ${exit_ms} ms after SIGTERM; query gone $(($(now_ms) - t_exit)) ms after the exit"
	ok "$t: the query is gone from pg_stat_activity within 1 s after exit"
else
	fail "$t: the query still runs on the server 1 s after the daemon exited"
fi
no_sessions() { [ "$(sessions pghealthd)" = 0 ]; }
wait_for "$(slow_ms 1000)" no_sessions || true
assert_eq 0 "$(sessions pghealthd)" "$t: no pghealthd session left"
assert_no_tmp_files "$d/out" "$t: no .*.tmp file left"

# ===========================================================================
# 10. SIGHUP: reload, replace connections; a broken file is refused
# ===========================================================================
t=sighup
d=$work/$t
mkdir -p "$d"
conf=$d/pghealthd.ini
log=$d/daemon.log
write_config "$conf" "$d/out" 1s 3
add_check "$conf" base "SELECT 'base' AS b"
start_daemon "$conf" "$log"
t0=$(now_ms)
wait_for "$(slow_ms 5000)" status_all "$d/out" findings "$t0" base || fail "$t: no first round"
one_session() { [ "$(sessions pghealthd)" -ge 1 ]; }
wait_for "$(slow_ms 3000)" one_session || fail "$t: no session named pghealthd"
# The new configuration: another application_name and one more check.
write_config "$conf.new" "$d/out" 1s 3 1 pghealthd_reloaded
add_check "$conf.new" base "SELECT 'base' AS b"
add_check "$conf.new" added "SELECT 'added' AS a"
mv "$conf.new" "$conf"
kill -HUP "$dpid"
t_hup=$(now_ms)
if wait_for "$(slow_ms 3000)" log_has "$log" "configuration reloaded"; then
	ok "$t: the log says configuration reloaded"
else
	fail "$t: no 'configuration reloaded' in the log"
	show_log "$log"
fi
if wait_for "$(slow_ms 3000)" test -f "$d/out/added.csv"; then
	ok "$t: the new check's CSV appears"
else
	fail "$t: added.csv did not appear"
fi
renamed() {
	[ "$(sessions pghealthd)" = 0 ] && [ "$(sessions pghealthd_reloaded)" -ge 1 ]
}
if wait_for "$(slow_ms 4000)" renamed; then
	echo "figure: sighup: every session has the new application_name $(($(now_ms) - t_hup)) ms after SIGHUP"
	ok "$t: connections replaced: every session has the new application_name"
else
	fail "$t: sessions named pghealthd: $(sessions pghealthd), pghealthd_reloaded: $(sessions pghealthd_reloaded)"
fi
# Broken files: an unterminated section header, then an unknown key.
good=$(cat "$conf")
broken_reload() { # LABEL EXPECTED_MESSAGE
	local lineno n_fail t_bad
	lineno=$(wc -l <"$conf")
	n_fail=$(grep -c 'reload of .* failed' "$log" || true)
	kill -HUP "$dpid"
	t_bad=$(now_ms)
	reload_failed() { [ "$(grep -c 'reload of .* failed' "$log")" -gt "$n_fail" ]; }
	if wait_for "$(slow_ms 3000)" reload_failed; then
		ok "$t: $1: the reload is refused"
	else
		fail "$t: $1: no 'reload ... failed' in the log"
		show_log "$log"
	fi
	if log_has "$log" "$conf:$lineno: $2"; then
		ok "$t: $1: the log names file:line ($conf:$lineno: $2)"
	else
		fail "$t: $1: no '$conf:$lineno: $2' in the log"
		show_log "$log" 6
	fi
	if wait_for "$(slow_ms 3000)" status_all "$d/out" findings "$t_bad" base added; then
		ok "$t: $1: the old configuration keeps running (fresh status.csv)"
	else
		fail "$t: $1: status.csv not fresh after the refused reload: [$snap]"
	fi
	assert_eq 0 "$(sessions pghealthd)" "$t: $1: the running application_name is kept"
}
printf '%s\n\n[check:broken\n' "$good" >"$conf"
broken_reload "unterminated section" "missing ']' in section header"
printf '%s\nbogus_key = 1\n' "$good" >"$conf"
broken_reload "unknown key" "unknown key 'bogus_key'"
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon is still running"
stop_daemon "$dpid" 3000 "$t" "$log"

finish
