#!/bin/bash
# What README promises about files and configuration, tried as a new user
# would:
#  1. a check that is removed or disabled leaves no <check>.csv behind, at
#     start (from the previous process's status.csv) and at reload; nothing
#     else in the directory is touched; a running daemon removes a check's
#     file whenever it returns no rows, and only then
#  2. once with an unusable output_dir exits 73 (a broken installation),
#     not 3 (a result)
#  3. check-config's output is valid input: it loads back to the same
#  4. a misspelt pghealthd.* threshold is warned about; a bad value makes
#     its check fail naming the setting
#
# Run alone: meson test -C build promises
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/promises.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup promises

# ===========================================================================
# 1. Files of checks that are gone
# ===========================================================================
out=$work/out
conf=$work/gone.ini
write_config "$conf" "$out" 1s 2
add_check "$conf" keep "SELECT 1 AS k"
add_check "$conf" drop_me "SELECT 2 AS d"
add_check "$conf" disable_me "SELECT 3 AS d"
run_once "$conf" 0 "three checks with findings"
echo "mine" >"$out/notes.csv"
for f in keep drop_me disable_me; do assert_file_exists "$out/$f.csv"; done

write_config "$conf" "$out" 1s 2
add_check "$conf" keep "SELECT 1 AS k"
add_check "$conf" disable_me "SELECT 3 AS d" "enabled = false"
run_once "$conf" 0 "one check removed, one disabled"
assert_file_absent "$out/drop_me.csv" "at start: a removed check's file is gone"
assert_file_absent "$out/disable_me.csv" "at start: a disabled check's file is gone"
assert_file_exists "$out/keep.csv" "at start: the kept check's file stays"
assert_file_exists "$out/notes.csv" "at start: a file pghealthd did not write stays"

add_check "$conf" newer "SELECT 4 AS n"
start_daemon "$conf" "$work/gone.log"
wait_for 5000 test -f "$out/newer.csv" || fail "the daemon runs"
write_config "$conf" "$out" 1s 2
add_check "$conf" keep "SELECT 1 AS k"
kill -HUP "$dpid"
wait_for 5000 test ! -e "$out/newer.csv" || fail "at reload: a dropped check's file is removed"
ok "at reload: the dropped check's file went"
sleep 1.2
assert_file_exists "$out/keep.csv" "at reload: the kept check's file stays"
assert_file_exists "$out/notes.csv" "at reload: a file pghealthd did not write stays"
stop_daemon "$dpid" 3000 "after a reload that dropped a check" "$work/gone.log"

# One daemon: a check's file comes and goes with its rows, round after
# round, and at a reload (pghealthd knows which files exist without asking
# the filesystem for every empty result).
pgsql -c "CREATE TABLE promises_flip (a int)"
conf=$work/flip.ini
out=$work/out-flip
mkdir -p "$out"
echo "1" >"$out/flip.csv" # a stale file from before
write_config "$conf" "$out" 300ms 2
add_check "$conf" flip "SELECT a FROM promises_flip"
start_daemon "$conf" "$work/flip.log"
wait_for 5000 test ! -e "$out/flip.csv" || fail "a stale file goes at the first empty result"
pgsql -c "INSERT INTO promises_flip VALUES (1)"
wait_for 5000 test -e "$out/flip.csv" || fail "rows: the file appears"
pgsql -c "DELETE FROM promises_flip"
wait_for 5000 test ! -e "$out/flip.csv" || fail "no rows again: the file goes"
pgsql -c "INSERT INTO promises_flip VALUES (2)"
wait_for 5000 test -e "$out/flip.csv" || fail "rows again: the file is back"
kill -HUP "$dpid"
sleep 0.5
pgsql -c "DELETE FROM promises_flip"
wait_for 5000 test ! -e "$out/flip.csv" || fail "after a reload, no rows: the file goes"
ok "a check's file follows its rows across rounds and a reload"
stop_daemon "$dpid" 3000 "after the file came and went" "$work/flip.log"

# A check of two statements fails, and neither of them ran.
pgsql -c "CREATE TABLE promises_t (a int)"
conf=$work/two.ini
write_config "$conf" "$work/out-two" 1s 2
add_check "$conf" two "INSERT INTO promises_t VALUES (1); SELECT 1 AS one"
run_once "$conf" 3 "a check of two statements"
assert_contains "$(status_sql "$work/out-two" "SELECT error FROM status WHERE \"check\" = 'two'")" \
	"multiple commands" "a check of two statements: the server's reason"
assert_eq 0 "$(pgsql -c "SELECT count(*) FROM promises_t")" "a check of two statements: nothing ran"

# ===========================================================================
# 2. once with an unusable output_dir
# ===========================================================================
write_config "$work/badout.ini" /proc/no-such-dir 1s 2
add_check "$work/badout.ini" keep "SELECT 1 AS k"
rc=0
pgh -c "$work/badout.ini" once >/dev/null 2>"$work/badout.err" || rc=$?
assert_eq 73 "$rc" "once with an unusable output_dir exits 73, not a result"
assert_contains "$(cat "$work/badout.err")" "output_dir /proc/no-such-dir" "the error names output_dir"

# ===========================================================================
# 3. check-config prints valid input
# ===========================================================================
pack=$here/../conf/pghealthd.ini
rc=0
pgh -c "$pack" check-config >"$work/printed.ini" 2>/dev/null || rc=$?
assert_eq 0 "$rc" "check-config of the example configuration"
rc=0
pgh -c "$work/printed.ini" check-config >"$work/printed2.ini" 2>"$work/printed2.err" || rc=$?
assert_eq 0 "$rc" "check-config's output loads back: $(head -c 300 "$work/printed2.err")"
# The same configuration, but for the comments that say where things came
# from, and the indentation of SQL lines (continuation lines lose it).
strip() { grep -v '^;' "$1" | sed 's/^[[:space:]]*//'; }
if diff <(strip "$work/printed.ini") <(strip "$work/printed2.ini") >"$work/printed.diff"; then
	ok "the reloaded output prints the same configuration"
else
	fail "the reloaded output differs: $(head -n 6 "$work/printed.diff")"
fi
assert_le 30 "$(grep -c '^\[check:' "$work/printed2.ini")" "every check of the pack is in it"
printf '[target]\nconninfo = host=db1 user=mon password=s3cret\n[check:a]\nsql = SELECT 1\n' >"$work/pw.ini"
chmod 0600 "$work/pw.ini"
pgh -c "$work/pw.ini" check-config >"$work/pw-printed.ini" 2>/dev/null
chmod 0600 "$work/pw-printed.ini"
assert_eq "" "$(grep s3cret "$work/pw-printed.ini")" "the password is not printed"
rc=0
pgh -c "$work/pw-printed.ini" check-config >/dev/null 2>&1 || rc=$?
assert_eq 0 "$rc" "a printed conninfo without its password loads back"

# ===========================================================================
# 4. Thresholds
# ===========================================================================
conf=$work/thresholds.ini
write_config "$conf" "$work/out-thr" 1s 2 \
	"session_sql=SET pghealthd.long_running_query.min_age = '1 minute'" \
	"session_sql=SET pghealthd.cache_hit_ratio.min_ratio = 'banana'" \
	"include=$root/conf/checks/postgresql.ini"
rc=0
pgh -c "$conf" check-config >/dev/null 2>"$work/thr.err" || rc=$?
assert_eq 0 "$rc" "check-config with a misspelt threshold still exits 0"
assert_contains "$(cat "$work/thr.err")" "session_sql sets pghealthd.long_running_query.min_age, which no enabled check reads (did you mean pghealthd.long_running_queries.min_age?)" \
	"check-config warns about the misspelt threshold"
assert_eq "" "$(grep 'cache_hit_ratio' "$work/thr.err")" "a threshold a check reads is not warned about"
pgh -c "$conf" once >/dev/null 2>&1 || true
err=$(status_sql "$work/out-thr" "SELECT error FROM status WHERE \"check\" = 'cache_hit_ratio'")
assert_contains "$err" "pghealthd.cache_hit_ratio.min_ratio = 'banana'" "a bad value: the check's error names the setting"
assert_eq error "$(status_sql "$work/out-thr" "SELECT state FROM status WHERE \"check\" = 'cache_hit_ratio'")" \
	"a bad value: the check ends error"

finish
