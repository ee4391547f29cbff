#!/bin/bash
# Files appear atomically: while `pghealthd once` writes a 2,000,000-row
# result, a reader polls the output directory; whenever big.csv exists it is
# complete (2,000,001 lines, ends with a newline).  Afterwards no temp file
# remains and the file equals COPY's.  Prints wall time and peak RSS of
# pghealthd and of psql's COPY for the same query ("figures:" lines); the
# RSS bound is not checked when PGH_WRAPPER (valgrind) runs the binary.
#
# Run alone: meson test -C build atomicity
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/atomicity.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup atomicity /usr/bin/time

out=$work/out
mkdir -p "$out"
nrows=2000000
query="SELECT g, md5(g::text) FROM generate_series(1, $nrows) g"
max_rss_kb=$(rss_kb "${PGH_MAX_RSS_KB:-65536}")

conf=$work/pghealthd.ini
new_config "$conf" "$out" max_connections=2 timeout=300s
add_check "$conf" big "$query" "severity = info"

# figure FILE FIELD: a value from /usr/bin/time -v output.
figure() {
	sed -n "s/^[[:space:]]*$2: //p" "$1" 2>/dev/null || true
}

# Inspect big.csv once through a single open file description, so a rename
# in between cannot mix two files.  Echoes "lines lastbyte" (lastbyte "nl"
# when the file ends with a newline).
inspect() {
	local lines last
	exec 3<"$out/big.csv" || return 1
	lines=$(wc -l </dev/fd/3)
	last=$(tail -c 1 /dev/fd/3 | od -An -c | tr -d ' ')
	exec 3<&-
	[ "$last" = '\n' ] && last="nl"
	echo "$lines ${last:-empty}"
}

pgh_set_cmd
/usr/bin/time -v -o "$work/time-pghealthd.txt" \
	"${PGH_CMD[@]}" -c "$conf" once >"$work/pghealthd.stdout" 2>"$work/pghealthd.stderr" &
pid=$!

polls=0
seen=0
seen_tmp=0
bad=0
first_bad=""
after=0
# Poll while pghealthd runs, then a few more times.
while :; do
	running=0
	kill -0 "$pid" 2>/dev/null && running=1
	polls=$((polls + 1))
	if [ -n "$(find "$out" -maxdepth 1 -name '.*.tmp' -print -quit 2>/dev/null)" ]; then
		seen_tmp=$((seen_tmp + 1))
	fi
	if [ -e "$out/big.csv" ]; then
		if r=$(inspect 2>/dev/null); then
			seen=$((seen + 1))
			if [ "$r" != "$((nrows + 1)) nl" ]; then
				bad=$((bad + 1))
				[ -n "$first_bad" ] || first_bad=$r
			fi
		fi
	fi
	if [ "$running" -eq 0 ]; then
		after=$((after + 1))
		[ "$after" -lt 3 ] || break
	fi
	sleep 0.02
done
rc=0
wait "$pid" || rc=$?

echo "# reader: $polls polls, big.csv seen complete-or-not in $seen, a .*.tmp file seen in $seen_tmp"
assert_eq 0 "$rc" "pghealthd once exits 0 (info finding)"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$work/pghealthd.stderr" | tail -n 20
assert_eq 0 "$bad" "every time big.csv existed it was complete ($seen polls saw it; first bad: ${first_bad:-none})"
assert_no_tmp_files "$out"

# The reference, timed the same way.
/usr/bin/time -v -o "$work/time-psql.txt" \
	env PGOPTIONS='-c TimeZone=UTC' PGCLIENTENCODING=UTF8 \
	psql -X -q -v ON_ERROR_STOP=1 \
	-c "COPY ($query) TO STDOUT WITH (FORMAT csv, HEADER)" >"$work/expected.csv" ||
	die "reference COPY failed"
assert_files_equal "$work/expected.csv" "$out/big.csv" "big.csv equals COPY ($nrows rows)"

pgh_wall=$(figure "$work/time-pghealthd.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')
pgh_rss=$(figure "$work/time-pghealthd.txt" 'Maximum resident set size (kbytes)')
psql_wall=$(figure "$work/time-psql.txt" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')
psql_rss=$(figure "$work/time-psql.txt" 'Maximum resident set size (kbytes)')
size=$(stat -c %s "$work/expected.csv")
echo "figures: rows=$nrows bytes=$size"
echo "figures: pghealthd once: wall=$pgh_wall max_rss_kb=$pgh_rss"
echo "figures: psql COPY > file: wall=$psql_wall max_rss_kb=$psql_rss"
assert_match '^[0-9]+$' "$pgh_rss" "peak RSS of pghealthd measured"
# Under a wrapper (valgrind) the RSS is the wrapper's: no bound to check.
if [ -n "$PGH_WRAPPER" ]; then
	echo "# PGH_WRAPPER is set: the peak RSS bound is not checked"
elif [[ $pgh_rss =~ ^[0-9]+$ ]]; then
	assert_le "$pgh_rss" "$max_rss_kb" "pghealthd peak RSS ${pgh_rss} kB <= ${max_rss_kb} kB (streaming, bounded memory)"
fi
finish
