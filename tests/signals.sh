#!/bin/bash
# Signals at the worst moments, and what they leave in the output directory:
#
#  1. SIGTERM while a check runs: its previous file stays as it was, and
#     every file status.csv names is there; a check that fails keeps its
#     previous file too, and status.csv names it with the failed state
#  2. SIGHUP while a check runs, two SIGHUPs 100 ms apart, a SIGHUP storm
#     across status writes: the daemon lives on (under ASan too) and the new
#     configuration's checks run
#  3. SIGHUP with output_dir spelled differently (a trailing /) while a check
#     streams its file: the file is published, nothing is deleted
#  4. SIGHUP to a configuration without checks: refused, the old one runs on
#
# Run alone: meson test -C build signals
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/signals.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup signals
pgsql -c "CREATE TABLE ctl (s float8, d int); INSERT INTO ctl VALUES (0, 1)" ||
	die "setup failed"

# Every file status.csv of OUTDIR names exists.
named_files_exist() { # OUTDIR
	local f missing=""
	while IFS= read -r f; do
		[ -z "$f" ] || [ -f "$1/$f" ] || missing+=" $f"
	done < <(status_sql "$1" "SELECT coalesce(file, '') FROM status")
	[ -z "$missing" ] || {
		echo "# status.csv names missing files:$missing"
		return 1
	}
}

active() { # PATTERN
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'
		AND query LIKE '$1' AND pid <> pg_backend_pid()")" -ge 1 ]
}

# ===========================================================================
# 1. SIGTERM mid-round keeps the last good files
# ===========================================================================
out=$work/out-term
conf=$work/term.ini
write_config "$conf" "$out" 1s 2
add_check "$conf" slowable "SELECT 1 AS x, pg_sleep(s) FROM ctl" "timeout = 30s"
start_daemon "$conf" "$work/term.log"
wait_for 5000 test -f "$out/slowable.csv" || fail "slowable.csv is written"
cp "$out/slowable.csv" "$work/slowable.before"
pgsql -c "UPDATE ctl SET s = 20"
wait_for 5000 active '%pg_sleep(s) FROM ctl%' || fail "the slow run started"
stop_daemon "$dpid" 3000 "SIGTERM mid-round" "$work/term.log"
assert_files_equal "$work/slowable.before" "$out/slowable.csv" \
	"SIGTERM mid-round: the previous file is untouched"
if named_files_exist "$out"; then ok "SIGTERM mid-round: every file status.csv names exists"; else fail "SIGTERM mid-round: status.csv names a missing file"; fi
assert_no_tmp_files "$out"

# A failed run is not a newer result either.
pgsql -c "UPDATE ctl SET s = 0"
conf=$work/fail.ini
write_config "$conf" "$out" 1s 2
add_check "$conf" slowable "SELECT 1 / d AS x FROM ctl"
run_once "$conf" 0 "a good run"
cp "$out/slowable.csv" "$work/slowable.good"
pgsql -c "UPDATE ctl SET d = 0"
run_once "$conf" 3 "a failing run"
assert_files_equal "$work/slowable.good" "$out/slowable.csv" "a failing run keeps the previous file"
snapshot "$out"
assert_eq error "$(snap_get slowable 2)" "status.csv: the failing run's state"
assert_eq 0 "$(snap_get slowable 3)" "status.csv: rows 0 for the failing run"
assert_eq slowable.csv "$(status_sql "$out" "SELECT file FROM status WHERE \"check\" = 'slowable'")" \
	"status.csv: names the kept file"
pgsql -c "UPDATE ctl SET d = 1"

# ===========================================================================
# 2. SIGHUP mid-round, twice in a row, and a storm across status writes
# ===========================================================================
out=$work/out-hup
conf=$work/hup.ini
write_config "$conf" "$out" 1s 3
add_check "$conf" sleepy "SELECT 1 AS x, pg_sleep(0.4)"
add_check "$conf" quick "SELECT 2 AS y"
start_daemon "$conf" "$work/hup.log"
wait_for 5000 active '%pg_sleep(0.4)%' || fail "sleepy runs"
kill -HUP "$dpid"
sleep 0.3
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "SIGHUP mid-round: alive"
kill -HUP "$dpid"
sleep 0.1
kill -HUP "$dpid"
# The storm: rounds every 100 ms, a SIGHUP every 20 ms for 2 s, so reloads
# land while jobs run, while status.csv is being written, and between.
write_config "$conf" "$out" 100ms 3
add_check "$conf" sleepy "SELECT 1 AS x, pg_sleep(0.05)"
add_check "$conf" quick "SELECT 2 AS y"
kill -HUP "$dpid"
for i in $(seq 1 100); do
	kill -HUP "$dpid" 2>/dev/null || break
	: "$i"
	sleep 0.02
done
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "SIGHUP storm: alive"
add_check "$conf" newcomer "SELECT 3 AS z"
kill -HUP "$dpid"
wait_for "$(slow_ms 5000)" test -f "$out/newcomer.csv" ||
	fail "the reloaded configuration's new check runs"
reloads=$(grep -c "configuration reloaded" "$work/hup.log" || true)
echo "figure: $reloads reloads applied during the SIGHUP storm"
assert_le 2 "$reloads" "reloads were applied"
stop_daemon "$dpid" 3000 "after the SIGHUP storm" "$work/hup.log"

# ===========================================================================
# 3. SIGHUP with output_dir spelled differently while a file streams
# ===========================================================================
out=$work/out-spell
conf=$work/spell.ini
big="SELECT g, repeat('x', 9000) AS pad, pg_sleep(0.01) FROM generate_series(1, 200) g"
write_config "$conf" "$out" 4s 2
add_check "$conf" big "$big"
start_daemon "$conf" "$work/spell.log"
wait_for "$(slow_ms 8000)" test -f "$out/big.csv" || fail "big.csv is written"
wait_for "$(slow_ms 8000)" test -f "$out/.big.csv.tmp" || fail "the next run of big streams"
write_config "$conf" "$out/" 4s 2
add_check "$conf" big "$big"
kill -HUP "$dpid"
wait_for "$(slow_ms 8000)" log_has "$work/spell.log" "round 2:" || fail "round 2 ends"
assert_eq 201 "$(wc -l <"$out/big.csv")" "output_dir/: the streaming file is published whole"
snapshot "$out"
assert_eq findings "$(snap_get big 2)" "output_dir/: the run's state is findings"
if log_has "$work/spell.log" "rename"; then fail "output_dir/: a rename failed: $(grep -m1 rename "$work/spell.log")"; else ok "output_dir/: no publish failed"; fi

# ===========================================================================
# 4. SIGHUP to a configuration without checks
# ===========================================================================
printf '[run]\noutput_dir = %s\ninterval = 4s\n' "$out" >"$conf"
kill -HUP "$dpid"
wait_for 3000 log_has "$work/spell.log" "no checks configured" ||
	fail "a reload without checks is refused with its reason"
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "a reload without checks: alive"
stop_daemon "$dpid" 3000 "after a refused reload" "$work/spell.log"
assert_no_tmp_files "$out"

finish
