# shellcheck shell=bash
# The shell test library: the one file a test sources.  It holds the
# assertions (each failure names the test's file:line), how pghealthd is run,
# psql helpers, the configuration writer and, through test_setup, the daemon
# and fixture helpers of daemon-lib.sh.  An integration test starts:
#
#   set -eu
#   # shellcheck source=tests/lib.sh
#   . "$(dirname "$0")/lib.sh"
#   test_setup NAME [root] [COMMAND...]   # checks, $work, helpers, cleanup
#   assert_eq 3 "$n" "three rows"
#   finish                        # "N passed, N failed"; exit 1 on failure
#
# and runs through tests/with-pg.sh (meson test NAME does that).
# A failed assertion prints "not ok - MESSAGE (at script:line)" and the test
# goes on; `die` is for a broken setup and ends the test at once.  Tests never
# skip: something missing is a failure.  The one exception is what this
# machine cannot do at all (network namespaces without root): skip_test
# says why and exits 77, which meson reports as SKIP.

# The library's files (daemon-lib.sh adds itself): a failure is reported at
# the first caller outside them.
pgh_lib_files=("${BASH_SOURCE[0]}")
pgh_passed=0
pgh_failed=0
# The tests directory and the source tree.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # read by the test scripts
root=$(cd "$here/.." && pwd)

# script:line of the first caller outside the library.
pgh_where() {
	local i
	for ((i = 1; i < ${#BASH_SOURCE[@]}; i++)); do
		case " ${pgh_lib_files[*]} " in
		*" ${BASH_SOURCE[i]} "*) ;;
		*)
			echo "${BASH_SOURCE[i]##*/}:${BASH_LINENO[i - 1]}"
			return
			;;
		esac
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

# This machine cannot run the test at all: say why, exit 77 (SKIP).
skip_test() { # REASON
	echo "# SKIP: $*"
	echo "$(basename "$0"): skipped: $*" >&2
	exit 77
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
		file text, error text, since text)' \
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

# ---- the start of an integration test ------------------------------------

# Where a missing command comes from, for die's message.
pgh_package_of() { # COMMAND
	case "$1" in
	mount | umount | mountpoint) echo "package mount / util-linux" ;;
	jq | /usr/bin/time | chromium) echo "package ${1##*/}; scripts/install-deps installs it" ;;
	ss) echo "package iproute2" ;;
	*) echo "package $1" ;;
	esac
}

# test_setup NAME [root] [COMMAND...]: what every integration test does
# first.  It checks the environment (require_env), that the test runs as root
# when "root" is given (tmpfs mounts, signals to the server's processes,
# pgbouncer as the server's user) and that each COMMAND is installed; makes
# the scratch directory $work ($PGH_TEST_TMP/NAME); and loads daemon-lib.sh:
# the daemon and fixture helpers and the EXIT trap that ends whatever the
# test started (daemons, helpers, frozen backends, mounts, pgbouncer,
# background psql sessions).
test_setup() {
	local name=$1 need
	shift
	require_env
	for need in "$@"; do
		if [ "$need" = root ]; then
			[ "$(id -u)" -eq 0 ] || die "$name must run as root"
		else
			command -v "$need" >/dev/null 2>&1 || die "$need not found ($(pgh_package_of "$need"))"
		fi
	done
	work=$PGH_TEST_TMP/$name
	mkdir -p "$work"
	# shellcheck source=tests/daemon-lib.sh
	. "$here/daemon-lib.sh"
}

# ---- the configuration writer ---------------------------------------------

# The section a configuration key belongs to.
pgh_section_of() { # KEY
	case "$1" in
	conninfo | application_name | timezone | session_sql | password_file | password_command | \
		password_command_timeout | password_ttl | databases | exclude_databases) echo target ;;
	min_connections | max_connections | connect_timeout | idle_timeout) echo pool ;;
	*) echo run ;;
	esac
}

# new_config FILE OUTDIR [KEY=VALUE...]: a configuration for the fixture's
# server: [target] (conninfo, timezone = UTC), [pool] (only when a pool key
# is given), [run] (output_dir = OUTDIR, fsync = false), then each KEY=VALUE
# in its section, in the order given.  A key given again replaces the earlier
# value (session_sql and include add a line); KEY= with no value drops the
# key.  Checks are appended after (add_check).
new_config() {
	local file=$1 out=$2 kv key i s
	local -a cfg_keys=() cfg_vals=()
	local -A at=() body=()
	shift 2
	for kv in "conninfo=host='$PGHOST' port=$PGPORT dbname=$PGDATABASE user=$PGUSER" \
		timezone=UTC "$@"; do
		key=${kv%%=*}
		if [ -n "${at[$key]+set}" ] && [ "$key" != session_sql ] && [ "$key" != include ]; then
			cfg_vals[${at[$key]}]=${kv#*=}
		else
			at[$key]=${#cfg_keys[@]}
			cfg_keys+=("$key")
			cfg_vals+=("${kv#*=}")
		fi
	done
	for i in "${!cfg_keys[@]}"; do
		[ -n "${cfg_vals[i]}" ] || continue
		s=$(pgh_section_of "${cfg_keys[i]}")
		body[$s]+="${cfg_keys[i]} = ${cfg_vals[i]}"$'\n'
	done
	{
		printf '[target]\n%s' "${body[target]}"
		[ -z "${body[pool]:-}" ] || printf '\n[pool]\n%s' "${body[pool]}"
		printf '\n[run]\noutput_dir = %s\nfsync = false\n%s' "$out" "${body[run]:-}"
	} >"$file"
}

# add_check FILE NAME SQL [KEY=VALUE LINE...]: a [check:NAME] section.
add_check() {
	local f=$1 name=$2 sql=$3 l
	shift 3
	{
		printf '\n[check:%s]\n' "$name"
		ini_value sql "$sql" || return 1
		for l in "$@"; do
			echo "$l"
		done
	} >>"$f"
}

# ---- pghealthd exec ---------------------------------------------------------
# Needs $work.

# exec ARGS... -> $out (stdout) and $rc; stderr to $work/err
run_exec() {
	out=$(pgh exec "$@" 2>"$work/err")
	rc=$?
}

# exec --event - with the request JSON on stdin -> $out and $rc.
event() { # JSON
	out=$(printf '%s' "$1" | pgh exec --event - 2>"$work/err")
	rc=$?
}

# A jq filter over $out, compact.
jget() { # FILTER
	jq -c "$1" <<<"$out"
}

# exec_config: $work/exec.ini with an empty conninfo (libpq uses the
# fixture's PG* variables), exported as $PGHEALTHD_CONFIG.
# hba_password_over_tcp ROLES: the fixture's server asks ROLES (comma
# separated) for a scram-sha-256 password over TCP (a pg_hba.conf line ahead
# of the fixture's, the file rewritten in place: it keeps its owner), and the
# reload has taken effect: the first role without a password is refused.
hba_password_over_tcp() {
	local hba=$PGH_FIXTURE_DIR/data/pg_hba.conf
	{
		echo "host all $1 127.0.0.1/32 scram-sha-256"
		cat "$hba"
	} >"$work/pg_hba.conf"
	cat "$work/pg_hba.conf" >"$hba"
	pgsql -c "SELECT pg_reload_conf()" >/dev/null || die "pg_reload_conf failed"
	wait_for 5000 bash -c "! PGPASSWORD='' psql -X -w -h 127.0.0.1 -p $PGPORT -U ${1%%,*} -d postgres \
		-c 'SELECT 1' >/dev/null 2>&1" || die "the server still lets ${1%%,*} in without a password"
}

exec_config() {
	printf '[target]\nconninfo =\n' >"$work/exec.ini"
	export PGHEALTHD_CONFIG=$work/exec.ini
}
