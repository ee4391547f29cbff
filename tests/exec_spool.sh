#!/usr/bin/env bash
# `pghealthd exec`: the row spool.  Rows are spooled into an unlinked temp
# file in $TMPDIR; a spool that cannot be created or written (here a full
# 256 KiB tmpfs) must give an error answer and exit 1, never a "finished"
# answer with rows missing.
#
# Needs root (it mounts a tmpfs).
# Run alone: meson test -C build exec_spool
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/exec_spool.sh
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup exec_spool root jq mount umount mountpoint
exec_config
small=$work/small # a 256 KiB tmpfs: far less than the query's rows
roomy=$work/roomy
mkdir -p "$roomy"
mount_tmpfs "$small" size=256k,mode=0700 pghealthd-spool

# About 6.5 MB of rows: 5000 rows of 1280 characters.
big="SELECT repeat(md5(g::text), 40) AS r FROM generate_series(1, 5000) g"

# Exactly one JSON document on stdout.
assert_one_json() { # MESSAGE
	assert_eq 1 "$(jq -s length <<<"$out" 2>/dev/null || echo invalid)" "$1"
}

# ---- a full spool is an error, never a short "finished" ---------------------
TMPDIR=$small run_exec --max-rows 0 "$big"
assert_eq 1 "$rc" "full spool: exit 1"
assert_one_json "full spool: stdout is one JSON document"
assert_eq '"error"' "$(jq -c .status <<<"$out")" "full spool: status error"
assert_eq '["message","status"]' "$(jq -c keys <<<"$out")" "full spool: the normal error shape"
msg=$(jq -r .message <<<"$out")
assert_contains "$msg" "spool" "full spool: the message names the spool"
assert_contains "$msg" "$small" "full spool: the message names the spool's directory"
assert_contains "$msg" "No space left on device" "full spool: the message says why"
assert_eq "" "$(grep -o finished <<<"$out")" "full spool: nothing says finished"
assert_eq "" "$(ls -A "$small")" "full spool: no file left in TMPDIR"

# The same in the API's shape.
out=$(printf '{"sql_query": "%s"}' "$big" |
	TMPDIR=$small pgh exec --max-rows 0 --event - 2>"$work/err")
rc=$?
assert_eq 1 "$rc" "--event, full spool: exit 1"
assert_one_json "--event, full spool: stdout is one JSON document"
assert_eq '500 "error"' "$(jq -r '"\(.statusCode) \(.body.status | tojson)"' <<<"$out")" \
	"--event, full spool: statusCode 500, body.status error"
assert_contains "$(jq -r .body.message <<<"$out")" "No space left on device" \
	"--event, full spool: body.message says why"
assert_eq "" "$(grep -o finished <<<"$out")" "--event, full spool: nothing says finished"

# A small result still fits: the tmpfs is usable, only the big one overflows.
TMPDIR=$small run_exec "SELECT g FROM generate_series(1, 100) g"
assert_eq 0 "$rc" "small result in the small tmpfs: exit 0"
assert_eq '"finished" 100' "$(jq -r '"\(.status | tojson) \(.rows | length)"' <<<"$out")" \
	"small result in the small tmpfs: finished with all 100 rows"

# --no-results spools nothing, so it does not need room.
TMPDIR=$small run_exec --max-rows 0 --no-results "$big"
assert_eq 0 "$rc" "--no-results with a small TMPDIR: exit 0"
assert_eq '"finished"' "$(jq -c .status <<<"$out")" "--no-results with a small TMPDIR: finished"

# ---- with room, the same query returns every row ----------------------------
TMPDIR=$roomy run_exec --max-rows 0 "$big"
assert_eq 0 "$rc" "roomy spool: exit 0"
assert_eq '"finished"' "$(jq -c .status <<<"$out")" "roomy spool: status finished"
assert_eq 5000 "$(jq '.rows | length' <<<"$out")" "roomy spool: 5000 rows in the body"
assert_eq 5000 "$(jq '.row_count' <<<"$out")" "roomy spool: row_count 5000"
assert_eq "$(pgsql -c "SELECT md5(string_agg(r, '' ORDER BY g)) FROM
	(SELECT g, repeat(md5(g::text), 40) AS r FROM generate_series(1, 5000) g) s")" \
	"$(jq -j '.rows[].r' <<<"$out" | md5sum | cut -d' ' -f1)" "roomy spool: every row intact"

# ---- the spool lives in $TMPDIR -----------------------------------------------
# Without $PGH_WRAPPER: valgrind itself cannot start with such a TMPDIR.
out=$(TMPDIR=/nonexistent-dir "$PGHEALTHD" exec "SELECT 1 AS x" 2>"$work/err")
rc=$?
assert_eq 1 "$rc" "TMPDIR that does not exist: exit 1"
assert_eq '"error"' "$(jq -c .status <<<"$out")" "TMPDIR that does not exist: status error"
assert_contains "$(jq -r .message <<<"$out")" "/nonexistent-dir" \
	"TMPDIR that does not exist: the message names it"

# While a query runs, the process holds an unlinked file in TMPDIR (a
# wrapper such as valgrind may keep files of its own there: not unlinked).
TMPDIR=$roomy pgh_bg "$work/slow.log" exec "SELECT 1 AS x, pg_sleep(2)"
spool=""
while [ -z "$spool" ] && kill -0 "$pgh_pid" 2>/dev/null; do
	for fd in /proc/"$pgh_pid"/fd/*; do
		target=$(readlink "$fd" 2>/dev/null) || continue
		case "$target" in
		"$roomy"/*" (deleted)") spool=$target ;;
		esac
	done
	sleep 0.1
done
wait "$pgh_pid"
assert_eq 0 "$?" "slow query with TMPDIR: exit 0"
assert_match "^$roomy/[^/]+ \(deleted\)$" "$spool" "the open spool is an unlinked file in TMPDIR"
assert_eq "" "$(ls -A "$roomy")" "no file left in TMPDIR after the query"

# ---- stdout errors are still errors ------------------------------------------
TMPDIR=$roomy pgh exec --max-rows 0 "$big" >/dev/full 2>"$work/err"
rc=$?
assert_eq 1 "$rc" "stdout on a full device: exit 1"
assert_contains "$(cat "$work/err")" "cannot write the result" "stdout on a full device: logged"

finish
