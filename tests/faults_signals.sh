#!/bin/bash
# Fault injection, signals to a running daemon:
#
#  9. SIGTERM with a query in flight: a prompt exit 0, the query gone from
#     the server within 1 s, no session and no temp file left
# 10. SIGHUP: a new check and application_name (every connection replaced);
#     a broken configuration (an unterminated section, an unknown key) is
#     refused naming file:line, and the old one keeps running
#
# Times are printed as "figure: ..." lines.  Every time bound is multiplied
# by $PGH_SLOW (see lib.sh).  The other fault groups: faults_timeout,
# faults_terminate, faults_server, faults_load, faults_disk.  More signals at
# awkward moments: signals.sh.
#
# Run alone: meson test -C build faults_signals
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults_signals.sh
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup faults_signals
umask 022

# ===========================================================================
# 9. SIGTERM with a query in flight
# ===========================================================================
scenario sigterm
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
scenario sighup
write_config "$conf" "$d/out" 1s 3
add_check "$conf" base "SELECT 'base' AS b"
first_round "$d/out" base
one_session() { [ "$(sessions pghealthd)" -ge 1 ]; }
wait_for "$(slow_ms 3000)" one_session || fail "$t: no session named pghealthd"
# The new configuration: another application_name and one more check.
write_config "$conf.new" "$d/out" 1s 3 application_name=pghealthd_reloaded
add_check "$conf.new" base "SELECT 'base' AS b"
add_check "$conf.new" added "SELECT 'added' AS a"
mv "$conf.new" "$conf"
kill -HUP "$dpid"
t_hup=$(now_ms)
expect_within 3000 "$t: the log says configuration reloaded" "$t: no 'configuration reloaded' in the log" \
	log_has "$log" "configuration reloaded" || true
expect_within 3000 "$t: the new check's CSV appears" "$t: added.csv did not appear" \
	test -f "$d/out/added.csv" || true
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
	expect_within 3000 "$t: $1: the reload is refused" "$t: $1: no 'reload ... failed' in the log" \
		reload_failed || true
	if log_has "$log" "$conf:$lineno: $2"; then
		ok "$t: $1: the log names file:line ($conf:$lineno: $2)"
	else
		fail "$t: $1: no '$conf:$lineno: $2' in the log"
		show_log "$log" 6
	fi
	expect_within 3000 "$t: $1: the old configuration keeps running (fresh status.csv)" \
		"$t: $1: status.csv not fresh after the refused reload" \
		status_all "$d/out" findings "$t_bad" base added || echo "#   status.csv: [$snap]"
	assert_eq 0 "$(sessions pghealthd)" "$t: $1: the running application_name is kept"
}
printf '%s\n\n[check:broken\n' "$good" >"$conf"
broken_reload "unterminated section" "missing ']' in section header"
printf '%s\nbogus_key = 1\n' "$good" >"$conf"
broken_reload "unknown key" "unknown key 'bogus_key'"
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon is still running"
stop_daemon "$dpid" 3000 "$t" "$log"

finish
