#!/bin/bash
# A connection reset by something between pghealthd and the server (a
# middlebox, a NAT timing out) that arrives with data still readable:
# libuv reports EPOLLERR and stops the poll handle, pghealthd reads the
# data, and must start watching again to see the reset at once, not go deaf
# until the check's deadline.  A small proxy (tests/rst-proxy.c) forwards
# the connection, then sends a NoticeResponse and a TCP reset behind it.
#
# Run alone: meson test -C build reset
#   or: PGHEALTHD=build/src/pghealthd RST_PROXY=build/tests/rst-proxy \
#      tests/with-pg.sh tests/reset.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup reset
[ -x "${RST_PROXY:-}" ] || die "RST_PROXY (the rst-proxy helper) is not set"

port=$(free_port)
"$RST_PROXY" "$port" "$PGPORT" >"$work/proxy.out" 2>&1 &
proxy=$!
started_pids+=("$proxy")
wait_for 3000 grep -q ready "$work/proxy.out" || die "rst-proxy did not start"

conf=$work/reset.ini
write_config "$conf" "$work/out" 60s 1 application_name=pgh-reset \
	"conninfo=host=127.0.0.1 port=$port dbname=$PGDATABASE user=$PGUSER"
add_check "$conf" sleeper "SELECT pg_sleep(4) AS s" "timeout = 10s"
sleeping() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(4)%'")" -ge 1 ]; }
pgh_bg "$work/once.log" -c "$conf" once
once_pid=$pgh_pid
started_pids+=("$once_pid")
wait_for 5000 sleeping || fail "the check runs through the proxy"
t0=$(now_ms)
kill -USR1 "$proxy"
wait_for "$(slow_ms 15000)" not_alive "$once_pid" || fail "once ends after the reset"
gone=$(($(now_ms) - t0))
rc=0
wait "$once_pid" || rc=$?
echo "figure: once ended ${gone} ms after the connection was reset behind a notice"
assert_eq 3 "$rc" "a reset connection: once ends UNKNOWN"
assert_le "$gone" "$(slow_ms 2000)" "the reset is seen at once, not at the check's deadline (10 s)"
err=$(status_sql "$work/out" "SELECT error FROM status WHERE \"check\" = 'sleeper'")
assert_ne "" "$err" "status.csv says why: $err"

finish
