#!/bin/bash
# What pghealthd does to a cluster that is already in trouble:
#
#  1. behind a saturated pgbouncer session pool (its one server connection
#     held by another client) `once` ends by itself, within the check timeout
#     plus connect_timeout, UNKNOWN with the reason in status.csv; the log
#     never calls pgbouncer's cancel key a backend pid
#  2. while no connection works (a frozen postmaster) there is one attempt
#     at a time, never a burst; the pool grows again once one succeeded
#  3. a query that swallows statement_timeout and the cancel is gone from the
#     server about a second after the connection is dropped (PostgreSQL 14+:
#     client_connection_check_interval)
#
# Needs root (pgbouncer runs as the server's user; the postmaster is stopped
# with SIGSTOP).
# Run alone: meson test -C build connect_limits
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/connect_limits.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup connect_limits root ss

# ===========================================================================
# 1. A saturated pgbouncer session pool
# ===========================================================================
bouncer_start "$work/bouncer" session 1
# The holder takes the pool's only server connection for its whole session.
bouncer_sql -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
started_pids+=("$holder")
holding() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")" = 1 ]; }
wait_for 5000 holding || die "the holder did not get pgbouncer's server connection"

conf=$work/bouncer.ini
write_config "$conf" "$work/out-bouncer" 60s 3 application_name=pgh-limits \
	"conninfo=$bouncer_conninfo" connect_timeout=3s
add_check "$conf" one "SELECT 1 AS one" "timeout = 2s"
add_check "$conf" two "SELECT 2 AS two" "timeout = 2s"
timed_once 40 "$conf"
echo "figure: once behind a saturated pgbouncer pool exited $rc after ${wall} ms"
assert_eq 3 "$rc" "saturated pooler: once ends UNKNOWN by itself"
assert_le "$wall" "$(slow_ms 6500)" "saturated pooler: within timeout + connect_timeout + 1.5 s"
snapshot "$work/out-bouncer"
for c in one two; do
	assert_match '^(error|timeout)$' "$(snap_get "$c" 2)" "saturated pooler: $c failed"
	assert_contains "$(snap_get "$c" 5)" "timeout expired during session setup" \
		"saturated pooler: $c says why"
done
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'" >/dev/null
wait "$holder" 2>/dev/null || true
bouncer_sql -c "SELECT 1" >/dev/null || fail "pgbouncer serves again after the holder left"

rc=0
"$PGHEALTHD" -c "$conf" once >"$work/bouncer2.out" 2>"$work/bouncer2.err" || rc=$?
assert_eq 0 "$rc" "through pgbouncer once is OK when the pool is free"
if grep -q "backend pid" "$work/bouncer2.err"; then
	fail "the log calls pgbouncer's cancel key a backend pid: $(grep -m1 'backend pid' "$work/bouncer2.err")"
else
	ok "the log names the cancel key for what it is"
fi
assert_contains "$(cat "$work/bouncer2.err")" "cancel key pid" "the ready line shows the cancel key pid"
bouncer_stop "$work/bouncer"

# ===========================================================================
# 2. One attempt at a time while nothing works
# ===========================================================================
postmaster=$(head -n 1 "$PGH_FIXTURE_DIR/data/postmaster.pid")
conf=$work/burst.ini
write_config "$conf" "$work/out-burst" 60s 5 application_name=pgh-burst \
	"conninfo=host=127.0.0.1 port=$PGPORT dbname=$PGDATABASE user=$PGUSER" connect_timeout=1s
for i in 1 2 3 4 5; do
	add_check "$conf" "c$i" "SELECT $i AS n, pg_sleep(0.3)" "timeout = 5s"
done
kill -STOP "$postmaster"
frozen_pids+=("$postmaster")
# The kernel completes the handshakes into the frozen postmaster's backlog:
# each attempt is an established connection that never gets an answer.
attempts() { ss -Htn state established "( dport = :$PGPORT )" | wc -l; }
pgh_bg "$work/burst.log" -c "$conf" once
burst_pid=$pgh_pid
started_pids+=("$burst_pid")
peak=0
for i in $(seq 1 80); do
	n=$(attempts)
	[ "$n" -gt "$peak" ] && peak=$n
	: "$i"
	sleep 0.05
done
echo "figure: peak simultaneous connection attempts at a frozen postmaster: $peak"
assert_le "$peak" 1 "no burst: at most one attempt at a time while no connection works"
assert_le 1 "$peak" "the attempts were seen"
rc=0
wait_for "$(slow_ms 12000)" not_alive "$burst_pid" || fail "once at a frozen server ends by itself"
wait "$burst_pid" || rc=$?
assert_eq 3 "$rc" "frozen server: once ends UNKNOWN"
kill -CONT "$postmaster"
frozen_pids=()
wait_for 10000 q "SELECT 1" >/dev/null || die "the server did not come back"

# After one success the pool grows to serve the queue again.
conf2=$work/grow.ini
write_config "$conf2" "$work/out-grow" 60s 5 application_name=pgh-grow
for i in 1 2 3 4 5; do
	add_check "$conf2" "c$i" "SELECT $i AS n, pg_sleep(0.5)"
done
pgh_bg "$work/grow.log" -c "$conf2" once
grow_pid=$pgh_pid
started_pids+=("$grow_pid")
grown() { [ "$(sessions pgh-grow)" -ge 3 ]; }
if wait_for 3000 grown; then ok "the pool grows past one connection after a success"; else fail "the pool did not grow"; fi
rc=0
wait "$grow_pid" || rc=$?
assert_eq 0 "$rc" "the grown round is OK"

# ===========================================================================
# 3. A query that swallows every cancel
# ===========================================================================
pgsql >/dev/null <<'EOF' || die "setup of stubborn() failed"
CREATE FUNCTION stubborn(secs float8) RETURNS int LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    WHILE clock_timestamp() - t0 < make_interval(secs => secs) LOOP
        BEGIN
            PERFORM pg_sleep(0.1);
        EXCEPTION WHEN query_canceled THEN
            NULL;
        END;
    END LOOP;
    RETURN 1;
END
$$;
EOF
conf=$work/stubborn.ini
write_config "$conf" "$work/out-stubborn" 60s 2 application_name=pgh-stubborn
add_check "$conf" stubborn "SELECT stubborn(14) AS s" "timeout = 1s"
stubborn_running() {
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT stubborn(14)%'")" -ge 1 ]
}
t0=$(now_ms)
pgh_bg "$work/stubborn.log" -c "$conf" once
st_pid=$pgh_pid
started_pids+=("$st_pid")
wait_for 3000 stubborn_running || fail "the stubborn query started"
wait_for "$(slow_ms 10000)" not_alive "$st_pid" || fail "once with a stubborn query ends"
exit_ms=$(($(now_ms) - t0))
if wait_for 16000 eval '! stubborn_running'; then
	gone_ms=$(($(now_ms) - t0))
else
	gone_ms=99999
fi
echo "figure: stubborn query: once exited after ${exit_ms} ms, query gone from the server after ${gone_ms} ms (it would run 14000 ms)"
assert_le "$exit_ms" "$(slow_ms 5000)" "stubborn query: the connection is dropped after timeout + cancel grace"
assert_le "$gone_ms" "$((exit_ms + $(slow_ms 2000)))" \
	"stubborn query: gone from the server within 2 s of the drop"
assert_contains "$(cat "$work/out-stubborn/status.csv")" "stubborn,info,timeout" "stubborn query: state timeout"

finish
