# shellcheck shell=bash
# Assertion helpers for the shell integration tests.  Source it from a bash
# test script, make assertions, end with `finish`:
#
#   . "$(dirname "$0")/lib.sh"
#   assert_eq 3 "$n" "three rows"
#   finish                        # "N passed, N failed"; exit 1 on failure
#
# A failed assertion prints "not ok - MESSAGE (at script:line)" and the test
# goes on; `die` is for a broken setup and ends the test at once.  Tests never
# skip: something missing is a failure.

pgh_lib_file=${BASH_SOURCE[0]}
pgh_passed=0
pgh_failed=0

# script:line of the first caller outside this file.
pgh_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		if [ "${BASH_SOURCE[i]}" != "$pgh_lib_file" ]; then
			echo "${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
			return
		fi
	done
	echo "?"
}

ok() {
	pgh_passed=$((pgh_passed + 1))
	echo "ok - $*"
}

fail() {
	pgh_failed=$((pgh_failed + 1))
	echo "not ok - $* (at $(pgh_where))"
}

# Print the summary and exit: 1 if anything failed (or nothing was checked).
finish() {
	echo "# $pgh_passed passed, $pgh_failed failed"
	if [ "$pgh_failed" -ne 0 ] || [ "$pgh_passed" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

# A setup step failed: count it, print the summary, stop.
die() {
	fail "$*"
	finish
}

assert_eq() { # EXPECTED ACTUAL MESSAGE
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		fail "$3: expected [$1], got [$2]"
	fi
}

assert_ne() { # UNEXPECTED ACTUAL MESSAGE
	if [ "$1" != "$2" ]; then
		ok "$3"
	else
		fail "$3: got [$2]"
	fi
}

assert_match() { # ERE ACTUAL MESSAGE
	if [[ $2 =~ $1 ]]; then
		ok "$3"
	else
		fail "$3: [$2] does not match /$1/"
	fi
}

assert_contains() { # HAYSTACK NEEDLE MESSAGE
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) fail "$3: [$2] not found in [$1]" ;;
	esac
}

assert_le() { # A B MESSAGE: integers, A <= B
	if [ "$1" -le "$2" ]; then
		ok "$3"
	else
		fail "$3: $1 > $2"
	fi
}

assert_file_exists() { # PATH [MESSAGE]
	if [ -f "$1" ]; then
		ok "${2:-$1 exists}"
	else
		fail "${2:-$1 exists}: no such file"
	fi
}

assert_file_absent() { # PATH [MESSAGE]
	if [ ! -e "$1" ]; then
		ok "${2:-$1 absent}"
	else
		fail "${2:-$1 absent}: it exists"
	fi
}

# Show where two files first differ: cmp's verdict, the sizes, and the
# differing line of each (first 300 bytes, control characters visible).
pgh_show_difference() { # EXPECTED ACTUAL
	local verdict line
	echo "#   expected: $1 ($(wc -c <"$1") bytes, $(wc -l <"$1") lines)"
	echo "#   actual:   $2 ($(wc -c <"$2") bytes, $(wc -l <"$2") lines)"
	verdict=$(cmp "$1" "$2" 2>&1) || true
	echo "#   $verdict"
	line=$(sed -n 's/.* line \([0-9]*\).*/\1/p' <<<"$verdict")
	[ -n "$line" ] || line=1
	case "$verdict" in
	*EOF*) line=$((line + 1)) ;;
	esac
	echo "#   expected line $line (cat -A):"
	sed -n "${line}p" "$1" | head -c 300 | cat -A | awk '{ print "#     " $0 }'
	echo "#   actual line $line (cat -A):"
	sed -n "${line}p" "$2" | head -c 300 | cat -A | awk '{ print "#     " $0 }'
}

assert_files_equal() { # EXPECTED ACTUAL MESSAGE
	if [ ! -f "$2" ]; then
		fail "$3: $2 does not exist"
	elif [ ! -f "$1" ]; then
		fail "$3: expected file $1 does not exist"
	elif cmp -s "$1" "$2"; then
		ok "$3"
	else
		fail "$3: files differ"
		pgh_show_difference "$1" "$2"
	fi
}

# No hidden temp file (.*.tmp) may remain under DIR.
assert_no_tmp_files() { # DIR [MESSAGE]
	local left
	left=$(find "$1" -name '.*.tmp' 2>/dev/null)
	if [ -z "$left" ]; then
		ok "${2:-no .*.tmp file left in $1}"
	else
		fail "${2:-no .*.tmp file left in $1}: found $left"
	fi
}

# How the binary is run: $PGH_WRAPPER (words split on blanks, e.g. a valgrind
# command line; empty by default) in front of $PGHEALTHD.  Timing bounds are
# multiplied by $PGH_SLOW (default 1; a slow wrapper raises it).
PGH_WRAPPER=${PGH_WRAPPER:-}
PGH_SLOW=${PGH_SLOW:-1}

# PGH_CMD: the argv prefix that runs pghealthd (for tools such as
# /usr/bin/time that need a command, not a shell function).
pgh_set_cmd() {
	local -a w=()
	read -r -a w <<<"$PGH_WRAPPER"
	PGH_CMD=("${w[@]}" "$PGHEALTHD")
}

# Run pghealthd with ARGS through the wrapper.
pgh() { # ARGS...
	pgh_set_cmd
	"${PGH_CMD[@]}" "$@"
}

# Start pghealthd with ARGS in the background, stdout and stderr to LOGFILE;
# pgh_pid is its process id (the process itself, not a shell around it, so
# signals and /proc/PID reach it).
pgh_bg() { # LOGFILE ARGS...
	local log=$1
	shift
	pgh_set_cmd
	(exec "${PGH_CMD[@]}" "$@" >"$log" 2>&1) &
	# shellcheck disable=SC2034 # read by the test scripts
	pgh_pid=$!
}

# A time bound of MS milliseconds scaled by $PGH_SLOW, as an integer.
slow_ms() { # MS
	awk -v n="$1" -v f="$PGH_SLOW" 'BEGIN { printf "%d\n", n * f + 0.5 }'
}

# Peak-RSS bounds are multiplied by $PGH_RSS_FACTOR (default 1; a sanitizer
# build, with its shadow memory and allocator quarantine, raises it).
PGH_RSS_FACTOR=${PGH_RSS_FACTOR:-1}

# A memory bound of KB kilobytes scaled by $PGH_RSS_FACTOR, as an integer.
rss_kb() { # KB
	awk -v n="$1" -v f="$PGH_RSS_FACTOR" 'BEGIN { printf "%d\n", n * f + 0.5 }'
}

# Milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Fail the test unless $PGHEALTHD and the fixture's environment are there.
require_env() {
	[ -n "${PGHEALTHD:-}" ] || die "PGHEALTHD (path to the pghealthd binary) is not set"
	[ -x "$PGHEALTHD" ] || die "PGHEALTHD=$PGHEALTHD is not an executable file"
	if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ]; then
		die "PGHOST/PGPORT not set: run this test as tests/with-pg.sh $0"
	fi
	if [ -z "${PGH_TEST_TMP:-}" ] || [ ! -d "$PGH_TEST_TMP" ]; then
		die "PGH_TEST_TMP not set: run this test as tests/with-pg.sh $0"
	fi
	command -v psql >/dev/null 2>&1 || die "psql not found (package postgresql-client)"
	if ! [[ $PGH_SLOW =~ ^[0-9]+([.][0-9]+)?$ ]] || [[ $PGH_SLOW =~ ^0+([.]0*)?$ ]]; then
		die "PGH_SLOW=$PGH_SLOW is not a positive number"
	fi
	if ! [[ $PGH_RSS_FACTOR =~ ^[0-9]+([.][0-9]+)?$ ]] || [[ $PGH_RSS_FACTOR =~ ^0+([.]0*)?$ ]]; then
		die "PGH_RSS_FACTOR=$PGH_RSS_FACTOR is not a positive number"
	fi
}

# psql for setup and probes: no psqlrc, stop on error, unaligned tuples only.
pgsql() {
	PGOPTIONS='-c TimeZone=UTC -c client_min_messages=warning' PGCLIENTENCODING=UTF8 \
		psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}

# The reference output: COPY (QUERY) TO STDOUT as CSV with a header, in a UTC
# session, written to OUTFILE.
copy_csv() { # QUERY OUTFILE
	PGOPTIONS='-c TimeZone=UTC -c client_min_messages=warning' PGCLIENTENCODING=UTF8 \
		psql -X -q -v ON_ERROR_STOP=1 \
		-c "COPY ($1) TO STDOUT WITH (FORMAT csv, HEADER)" >"$2"
}

# Print SQL text as the value of an INI key: the first line after "KEY = ",
# each further line as an indented continuation line.  Blank lines are
# dropped; a line that INI would read as a comment is an error.
ini_value() { # KEY SQLTEXT
	local key=$1 first=1 line
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		[[ $line =~ ^[[:space:]]*$ ]] && continue
		if [[ $line =~ ^[[:space:]]*[\;#] ]]; then
			echo "ini_value: SQL line would be an INI comment: $line" >&2
			return 1
		fi
		if [ "$first" -eq 1 ]; then
			printf '%s = %s\n' "$key" "$line"
			first=0
		else
			printf '    %s\n' "$line"
		fi
	done <<<"$2"
}

# SQL text of a query file, without a trailing semicolon and whitespace.
read_query() { # FILE
	local q
	q=$(cat "$1")
	q=${q%"${q##*[![:space:]]}"}
	q=${q%;}
	printf '%s\n' "$q"
}

# Run SQL over the status.csv in OUTDIR, loaded (with its header checked)
# into a temp table "status"(check, severity, state, rows, duration_ms,
# started_at, file, error); prints unaligned rows, fields separated by "|".
status_sql() { # OUTDIR SQL
	pgsql -c 'CREATE TEMP TABLE status ("check" text, severity text,
		state text, rows bigint, duration_ms numeric, started_at text,
		file text, error text)' \
		-c 'COPY status FROM STDIN (FORMAT csv, HEADER match)' \
		-c "$2" <"$1/status.csv"
}

# Run `pghealthd -c CONFIG once` (through pgh); sets pgh_rc and pgh_wall_ms (for callers).  The
# daemon's stderr goes to CONFIG.stderr and is shown when the exit code is
# not the expected one.
run_once() { # CONFIG EXPECTED_EXIT MESSAGE
	local t0 t1
	t0=$(now_ms)
	pgh_rc=0
	pgh -c "$1" once >"$1.stdout" 2>"$1.stderr" || pgh_rc=$?
	t1=$(now_ms)
	# shellcheck disable=SC2034 # read by the test scripts
	pgh_wall_ms=$((t1 - t0))
	if [ "$pgh_rc" = "$2" ]; then
		ok "$3: exit $pgh_rc"
	else
		fail "$3: expected exit $2, got $pgh_rc"
		echo "#   ---- pghealthd stderr ----"
		tail -n 30 "$1.stderr" | sed 's/^/#   /'
	fi
}
