#!/bin/bash
# Spares: a small result is written into output_dir/.spare/<check>.csv, the
# copy its file replaced last time, and swapped in with RENAME_EXCHANGE, so
# that a round rewrites inodes in place instead of creating files and freeing
# the replaced ones.  Checked here on the real filesystem:
#   - the first round publishes with a plain rename, the second keeps the
#     replaced copy, the third rewrites it in place (same inode as round 1)
#     and a shorter result leaves no byte of the longer one;
#   - a reader that opened the file keeps exactly what it opened, rounds
#     later: a spare somebody holds open is never rewritten (with `once`,
#     and in a running daemon);
#   - a replaced copy over 64 KiB, or one linked into history, is not kept;
#   - an empty result removes the file and its spare; at start, a spare
#     whose file is gone is removed, and a dropped check's file and spare,
#     as at a reload that drops the check;
#   - a .spare, or a spare, planted as a symlink is never written through;
#   - fsync = true takes the same path.
#
# Run alone: meson test -C build spare
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/spare.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup spare
umask 022

out=$work/out
exp=$work/expected
mkdir -p "$out" "$exp"
pgsql -q -c "DROP TABLE IF EXISTS spare_t; CREATE TABLE spare_t (v text)"

conf=$work/spare.ini
new_config "$conf" "$out" max_connections=2 history=0
add_check "$conf" a "SELECT v FROM spare_t"

# set_value TEXT: what check a returns next.
set_value() {
	pgsql -q -c "TRUNCATE spare_t; INSERT INTO spare_t VALUES ('$1')"
}

inode() { stat -c %i "$1" 2>/dev/null || echo none; }

# shellcheck disable=SC2317 # called through expect_within
absent() { # PATH...: none of them exists
	local f
	for f in "$@"; do [ ! -e "$f" ] || return 1; done
}

# round N VALUE: one `once` round returning VALUE; a.csv must equal COPY.
round() {
	set_value "$2"
	run_once "$conf" 0 "round $1"
	copy_csv "SELECT v FROM spare_t" "$exp/a.csv" || die "reference COPY failed"
	assert_files_equal "$exp/a.csv" "$out/a.csv" "round $1: a.csv equals COPY"
	assert_no_tmp_files "$out" "round $1: no temp file left"
}

long=$(printf 'x%.0s' $(seq 1 3000))

round 1 "first"
i1=$(inode "$out/a.csv")
assert_file_absent "$out/.spare/a.csv" "round 1: nothing to keep yet (a plain rename)"

round 2 "$long"
i2=$(inode "$out/a.csv")
assert_eq "$i1" "$(inode "$out/.spare/a.csv")" "round 2: the replaced copy is the spare"
assert_ne "$i1" "$i2" "round 2: a.csv is another inode"

round 3 "short"
assert_eq "$i1" "$(inode "$out/a.csv")" "round 3: a.csv is round 1's inode, rewritten in place"
assert_eq "$i2" "$(inode "$out/.spare/a.csv")" "round 3: round 2's copy is the spare"
assert_eq "$(stat -c %s "$exp/a.csv")" "$(stat -c %s "$out/a.csv")" \
	"round 3: the shorter result is cut to its length"

# A reader opens a.csv (round 1's inode, holding "short") and keeps it open.
exec 3<"$out/a.csv"
cp "$out/a.csv" "$work/held.csv"
round 4 "fourth"
assert_eq "$i2" "$(inode "$out/a.csv")" "round 4: the free spare is reused"
assert_eq "$i1" "$(inode "$out/.spare/a.csv")" "round 4: the held copy is now the spare"
round 5 "fifth"
round 6 "sixth"
assert_ne "$i1" "$(inode "$out/a.csv")" "round 6: the held inode was never published again"
cat <&3 >"$work/read.csv"
exec 3<&-
assert_files_equal "$work/held.csv" "$work/read.csv" \
	"a reader holding the file over rounds 4-6 reads what it opened"

# A replaced copy over 64 KiB is removed, not kept.
round 7 "$(printf 'y%.0s' $(seq 1 100000))"
round 8 "small again"
assert_file_absent "$out/.spare/a.csv" "round 8: the 100 kB copy it replaced is not kept"
round 9 "small once more"
big=$(find "$out/.spare" -type f -size +64k)
assert_eq "" "$big" "round 9: no spare over 64 KiB"

# An empty result removes the file and its spare.
round 10 "ten"
assert_file_exists "$out/.spare/a.csv" "round 10: a spare exists"
pgsql -q -c "TRUNCATE spare_t"
run_once "$conf" 0 "round 11 (no rows)"
assert_file_absent "$out/a.csv" "round 11: no rows, no a.csv"
assert_file_absent "$out/.spare/a.csv" "round 11: and no spare"

# At start, a spare whose file is gone is removed; others stay.
round 12 "twelve"
round 13 "thirteen"
: >"$out/.spare/gone.csv"
run_once "$conf" 0 "round 14"
assert_file_absent "$out/.spare/gone.csv" "round 14: the spare of a file that is gone is removed at start"
assert_file_exists "$out/.spare/a.csv" "round 14: a.csv's spare stays"

# With history, the replaced copy lives on in history/: nothing is kept.
hconf=$work/history.ini
hout=$work/hout
mkdir -p "$hout"
new_config "$hconf" "$hout" history=3
add_check "$hconf" h "SELECT 1 AS one"
for n in 1 2 3; do
	run_once "$hconf" 0 "history round $n"
done
assert_file_absent "$hout/.spare/h.csv" "history = 3: no spare is kept"
assert_eq 2 "$(stat -c %h "$hout/h.csv")" "history = 3: h.csv is linked into history/"

# fsync = true: the same path, the same result.
sconf=$work/fsync.ini
sed 's/^fsync = false$/fsync = true/' "$conf" >"$sconf"
set_value "synced"
before=$(inode "$out/.spare/a.csv")
run_once "$sconf" 0 "fsync round"
copy_csv "SELECT v FROM spare_t" "$exp/a.csv" || die "reference COPY failed"
assert_files_equal "$exp/a.csv" "$out/a.csv" "fsync round: a.csv equals COPY"
assert_eq "$before" "$(inode "$out/a.csv")" "fsync round: the spare was rewritten and swapped in"

# A check dropped from the configuration: its file goes at the next start,
# and its spare with it.
assert_file_exists "$out/.spare/a.csv" "before the drop: a.csv has a spare"
dconf=$work/dropped.ini
new_config "$dconf" "$out" history=0
add_check "$dconf" b "SELECT 2 AS two"
run_once "$dconf" 0 "a dropped"
assert_file_absent "$out/a.csv" "a dropped: a.csv removed at start"
assert_file_absent "$out/.spare/a.csv" "a dropped: its spare too"

# A running daemon, a round a second: the spare is swapped in round after
# round while a reader holds the file open, and a reload that drops the
# check removes the file and its spare.
rout=$work/rout
rconf=$work/run.ini
mkdir -p "$rout"
write_config "$rconf" "$rout" 1s 2
add_check "$rconf" r "SELECT v FROM spare_t"
add_check "$rconf" stay "SELECT 1 AS one"
set_value "daemon"
start_daemon "$rconf" "$work/run.log"
expect_within 8000 "daemon: a spare after two rounds" "daemon: no spare after 8 s" \
	test -f "$rout/.spare/r.csv"
exec 3<"$rout/r.csv"
cp "$rout/r.csv" "$work/held-daemon.csv"
held=$(inode "$rout/r.csv")
set_value "changed while held"
copy_csv "SELECT v FROM spare_t" "$exp/r.csv" || die "reference COPY failed"
expect_within 5000 "daemon: the new value is published" "daemon: r.csv never changed" \
	cmp -s "$exp/r.csv" "$rout/r.csv"
# Two more rounds: the held inode would be rewritten by now if it were reused.
sleep 2.5
assert_files_equal "$exp/r.csv" "$rout/r.csv" "daemon: r.csv still the latest value"
assert_ne "$held" "$(inode "$rout/r.csv")" "daemon: the held inode is not published again"
cat <&3 >"$work/read-daemon.csv"
exec 3<&-
assert_files_equal "$work/held-daemon.csv" "$work/read-daemon.csv" \
	"daemon: a reader holding the file over rounds reads what it opened"
write_config "$rconf" "$rout" 1s 2
add_check "$rconf" stay "SELECT 1 AS one"
kill -HUP "$dpid"
expect_within 5000 "reload: the dropped check's file and spare are removed" \
	"reload: r.csv or its spare is still there" \
	absent "$rout/r.csv" "$rout/.spare/r.csv"
assert_file_exists "$rout/stay.csv" "reload: the kept check's file stays"
stop_daemon "$dpid" 3000 "spare daemon" "$work/run.log"

# A planted .spare symlink: nothing is written through it.
pout=$work/pout
outside=$work/outside
mkdir -p "$pout" "$outside"
ln -s "$outside" "$pout/.spare"
pconf=$work/planted.ini
new_config "$pconf" "$pout" history=0
add_check "$pconf" p "SELECT 42 AS answer"
for n in 1 2 3; do
	run_once "$pconf" 0 "planted round $n"
done
assert_eq "" "$(ls -A "$outside")" "planted .spare -> elsewhere: nothing written there"
# A spare planted as a symlink inside a real .spare: removed, not followed.
rm "$pout/.spare"
mkdir "$pout/.spare"
ln -s "$outside/victim" "$pout/.spare/p.csv"
run_once "$pconf" 0 "planted spare link"
assert_file_absent "$outside/victim" "a planted .spare/p.csv link is never written through"
assert_eq "" "$(find "$pout/.spare" -type l)" "and it is gone"
printf 'answer\n42\n' >"$exp/p.csv"
assert_files_equal "$exp/p.csv" "$pout/p.csv" "planted .spare: p.csv still published"
assert_no_tmp_files "$pout"
finish
