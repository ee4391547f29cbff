#!/bin/bash
# The CSV contract: for every query in tests/data/csv_queries/*.sql (one
# statement per file; the file name is the check name), the file pghealthd
# writes is byte-identical to
#   COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)
# run by psql in a UTC session on the same server; a query without rows
# leaves no file.  All queries run as checks of ONE `pghealthd once` round.
#
# Run alone: meson test -C build csv_contract
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/csv_contract.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup csv_contract

qdir=$here/data/csv_queries
out=$work/out
exp=$work/expected
mkdir -p "$out" "$exp"

pgsql -f "$here/data/csv_setup.sql" >/dev/null || die "setup SQL failed"

names=()
for f in "$qdir"/*.sql; do
	names+=("$(basename "$f" .sql)")
done
[ "${#names[@]}" -gt 0 ] || die "no queries in $qdir"

# The config: one info check per query, in file order.
conf=$work/pghealthd.ini
new_config "$conf" "$out" max_connections=4 timeout=120s
for name in "${names[@]}"; do
	add_check "$conf" "$name" "$(read_query "$qdir/$name.sql")" "severity = info" ||
		die "could not generate $conf"
done

run_once "$conf" 0 "one round over ${#names[@]} contract queries"

# Load the status once: check|state|rows, one line per check.
status_sql "$out" 'SELECT "check", state, rows FROM status ORDER BY 1' \
	>"$work/status.txt" || fail "status.csv loads back with COPY ... (FORMAT csv, HEADER match)"
assert_eq "${#names[@]}" "$(wc -l <"$work/status.txt")" "status.csv has one row per check"

for name in "${names[@]}"; do
	q=$(read_query "$qdir/$name.sql")
	if ! copy_csv "$q" "$exp/$name.csv"; then
		fail "$name: reference COPY failed"
		continue
	fi
	n=$(pgsql -c "SELECT count(*) FROM ($q) s") || {
		fail "$name: row count query failed"
		continue
	}
	st=$(awk -F'|' -v c="$name" '$1 == c { print $2 "|" $3 }' "$work/status.txt")
	if [ "$n" -eq 0 ]; then
		assert_file_absent "$out/$name.csv" "$name: no rows, no file"
		assert_eq "ok|0" "$st" "$name: status ok, 0 rows"
	else
		assert_files_equal "$exp/$name.csv" "$out/$name.csv" "$name: CSV equals COPY"
		assert_eq "findings|$n" "$st" "$name: status findings, $n rows"
	fi
done

assert_no_tmp_files "$out"
finish
