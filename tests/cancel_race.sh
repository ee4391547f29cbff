#!/bin/bash
# A connection released while its cancel request is still on its way (a
# max_rows truncation, a timeout) is not reused until the cancel is done,
# and nothing that happens to it meanwhile reaches the job that released it
# (which may be freed).  PQcancel() is slowed down by an LD_PRELOAD shim, and
# the backend is terminated while the cancel waits: the FATAL and the EOF
# arrive on the released connection.  The daemon must stay alive (under
# ASan: no use-after-free), report nothing twice, and keep working.
#
# Run alone: meson test -C build cancel_race
#   or: PGHEALTHD=build/src/pghealthd PGH_SLOW_CANCEL=build/tests/libpgh-slow-cancel.so \
#      tests/with-pg.sh tests/cancel_race.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup cancel_race
[ -f "${PGH_SLOW_CANCEL:-}" ] || die "PGH_SLOW_CANCEL (the slow-cancel shim) is not set"

out=$work/out
conf=$work/race.ini
write_config "$conf" "$out" 3s 2 application_name=pgh-race
add_check "$conf" capped "SELECT g FROM generate_series(1, 50) g" "max_rows = 2"
add_check "$conf" plain "SELECT 1 AS one"

LD_PRELOAD=$PGH_SLOW_CANCEL PGH_SLOW_CANCEL_MS=2000 start_daemon "$conf" "$work/race.log"
wait_for "$(slow_ms 5000)" log_has "$work/race.log" "max_rows 2 reached" ||
	fail "the truncation's cancel is sent"
wait_for "$(slow_ms 3000)" log_has "$work/race.log" "round 1:" || fail "round 1 ends while the cancel waits"
# The released connection is still watched: the server's FATAL and EOF now.
killed=$(q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE application_name = 'pgh-race'")
assert_le 1 "$killed" "a backend of the released connection was terminated"
sleep 2.5
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "alive after the cancel finished on a lost connection"
wait_for "$(slow_ms 8000)" log_has "$work/race.log" "round 2:" || fail "round 2 runs"
snapshot "$out"
assert_eq truncated "$(snap_get capped 2)" "capped: truncated in round 2"
assert_eq 2 "$(snap_get capped 3)" "capped: 2 rows"
assert_eq findings "$(snap_get plain 2)" "plain: findings in round 2"
assert_eq 1 "$(grep -c "round 1:" "$work/race.log")" "round 1 is reported once"
if grep -q "] crit:" "$work/race.log"; then fail "the log reports a bug: $(grep -m1 "] crit:" "$work/race.log")"; else ok "no internal error logged"; fi
stop_daemon "$dpid" 4000 "cancel race" "$work/race.log"

finish
