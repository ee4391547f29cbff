#!/bin/bash
# A check's kept state (state_sql): its one value is kept in
# output_dir/.state/<check> and given to the check's next run, in the next
# process too, as the transaction's setting pghealthd.previous.  It never
# reaches another check, a failing state query costs the check nothing,
# quotes survive, and state_sql needs scope = cluster.
#
# Run alone: meson test -C build state
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/state.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup state

out=$work/out
conf=$work/state.ini
new_config "$conf" "$out" history=0
# counter: shows what the previous run kept, keeps one more.
add_check "$conf" counter \
	"SELECT coalesce(current_setting('pghealthd.previous', true), '') AS previous" \
	"state_sql = SELECT (coalesce(nullif(current_setting('pghealthd.previous', true), ''), '0')::int + 1)::text"
# other: no state_sql; must never see counter's value.
add_check "$conf" other \
	"SELECT coalesce(current_setting('pghealthd.previous', true), '') AS previous"
# quoted: a value with quotes and a backslash goes round unchanged.
add_check "$conf" quoted \
	"SELECT current_setting('pghealthd.previous', true) AS previous" \
	"state_sql = SELECT \$\$it's \"x\" \\ y\$\$::text"
# broken: its state query fails; the check itself is fine.
add_check "$conf" broken "SELECT 1 AS one" "state_sql = SELECT 1 / 0"

value() { # CHECK: the previous column of its CSV
	status_sql "$out" "SELECT 1" >/dev/null 2>&1 || true
	sed -n 2p "$out/$1.csv"
}

# A temp file a crash left in .state is removed at start.
mkdir -p "$out/.state"
: >"$out/.state/.counter.tmp"
run_once "$conf" 0 "first run"
[ ! -e "$out/.state/.counter.tmp" ]
assert_eq 0 $? "a stale temp file in .state is removed at start"
assert_eq '""' "$(value counter)" "first run: nothing kept yet (pghealthd.previous is empty)"
assert_eq 1 "$(cat "$out/.state/counter")" "first run: its value is kept in .state/counter"
run_once "$conf" 0 "second run, a new process"
assert_eq 1 "$(value counter)" "second run: the previous run's value"
run_once "$conf" 0 "third run"
assert_eq 2 "$(value counter)" "third run: the previous run's value"
assert_eq 3 "$(cat "$out/.state/counter")" "third run: .state/counter holds the newest value"
assert_eq '""' "$(value other)" "a check without state_sql never sees another's value"
assert_eq "\"it's \"\"x\"\" \\ y\"" "$(value quoted)" "quotes and a backslash go round unchanged"
st=$(status_sql "$out" "SELECT state FROM status WHERE \"check\" = 'broken'")
assert_eq findings "$st" "a failing state query leaves its check as it is (findings, not error)"
[ ! -e "$out/.state/broken" ]
assert_eq 0 $? "a failing state query keeps nothing"
assert_contains "$(cat "$conf.stderr")" "state query failed" "the failing state query is logged"
[ -z "$(find "$out" -name '.*.tmp')" ]
assert_eq 0 $? "no temp file is left in the output directory"

# The daemon: every round gets the one before.
dconf=$work/daemon.ini
new_config "$dconf" "$work/dout" history=0 interval=1s
add_check "$dconf" counter \
	"SELECT coalesce(current_setting('pghealthd.previous', true), '') AS previous" \
	"state_sql = SELECT (coalesce(nullif(current_setting('pghealthd.previous', true), ''), '0')::int + 1)::text"
pgh_bg "$work/daemon.log" -c "$dconf" run
dpid=$pgh_pid
started_pids+=("$dpid")
# shellcheck disable=SC2317 # called by wait_for
kept_at_least() { [ "$(cat "$work/dout/.state/counter" 2>/dev/null || echo 0)" -ge 4 ]; }
wait_for "$(slow_ms 8000)" kept_at_least || fail "the daemon keeps counting (got $(cat "$work/dout/.state/counter" 2>/dev/null))"
# Reloads while rounds run and their state is being written: the state goes
# on from the value in memory, and nothing is freed under a write.
n0=$(cat "$work/dout/.state/counter")
for ((i = 0; i < 20; i++)); do
	kill -HUP "$dpid"
	sleep 0.2
done
sleep 1.2
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "20 reloads during rounds: the daemon is still running"
n1=$(cat "$work/dout/.state/counter")
assert_le $((n0 + 3)) "$n1" "the state goes on counting through the reloads ($n0 -> $n1)"
kill -TERM "$dpid"
wait "$dpid" || fail "the daemon exits 0 on SIGTERM"
n=$(cat "$work/dout/.state/counter")
prev=$(sed -n 2p "$work/dout/counter.csv")
assert_eq $((n - 1)) "$prev" "the daemon's last round read the round before's value ($prev, kept $n)"

# state_sql with scope = database: refused, naming the file and line.
bad=$work/bad.ini
new_config "$bad" "$out"
add_check "$bad" perdb "SELECT 1" "scope = database" "state_sql = SELECT '1'"
rc=0
pgh -c "$bad" check-config >/dev/null 2>"$work/bad.err" || rc=$?
assert_ne 0 "$rc" "check-config refuses state_sql with scope = database"
assert_contains "$(cat "$work/bad.err")" "bad.ini:" "the error names the file"
assert_contains "$(cat "$work/bad.err")" "state_sql in [check:perdb] needs scope = cluster" "the error says why"

finish
