#!/bin/bash
# Configurations that cannot do what is asked are refused up front, naming
# the file (and line): no checks at all, an include glob that matches
# nothing, every check disabled, a timeout PostgreSQL's statement_timeout
# cannot hold.  A file with only [target] is still fine for exec.
#
# Run alone: meson test -C build config_cli
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/config_cli.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup config_cli
conninfo="host='$PGHOST' port=$PGPORT dbname=$PGDATABASE user=$PGUSER"

# refused FILE CMD TEXT LABEL: `pghealthd -c FILE CMD` exits 78, stderr has TEXT.
refused() {
	local rc=0 err
	err=$(timeout -k 2 10 "$PGHEALTHD" -c "$1" "$2" 2>&1 >/dev/null) || rc=$?
	assert_eq 78 "$rc" "$4: $2 exits 78"
	assert_contains "$err" "$3" "$4: $2 says why"
}

: >"$work/empty.ini"
for cmd in check-config once run; do
	refused "$work/empty.ini" "$cmd" "$work/empty.ini: no checks configured" "an empty file"
done

printf '[run]\noutput_dir = %s/out\ninclude = %s/packs/*.ini\n' "$work" "$work" >"$work/glob.ini"
refused "$work/glob.ini" check-config "$work/glob.ini: no checks configured" "an include matching nothing"

printf '[target]\nconninfo = %s\n[run]\noutput_dir = %s/out\n[check:a]\nsql = SELECT 1\nenabled = false\n' \
	"$conninfo" "$work" >"$work/disabled.ini"
refused "$work/disabled.ini" once "every check has enabled = false" "every check disabled"

printf '[target]\nconninfo = %s\n' "$conninfo" >"$work/target.ini"
refused "$work/target.ini" check-config "no checks configured" "only [target]"
rc=0
out=$("$PGHEALTHD" -c "$work/target.ini" exec "SELECT 1 AS one" 2>/dev/null) || rc=$?
assert_eq 0 "$rc" "only [target]: exec still works"
assert_eq 1 "$(jq -r '.rows[0].one' <<<"$out" 2>/dev/null)" "only [target]: exec answers"

for t in 25d 2147484s; do
	printf '[run]\noutput_dir = %s/out\ntimeout = %s\n[check:a]\nsql = SELECT 1\n' "$work" "$t" >"$work/t.ini"
	refused "$work/t.ini" check-config "$work/t.ini:3: timeout = $t is out of range" "[run] timeout = $t"
	printf '[run]\noutput_dir = %s/out\n[check:a]\nsql = SELECT 1\ntimeout = %s\n' "$work" "$t" >"$work/t.ini"
	refused "$work/t.ini" check-config "$work/t.ini:5: timeout = $t is out of range" "[check] timeout = $t"
done
printf '[run]\noutput_dir = %s/out\ntimeout = 24d\n[check:a]\nsql = SELECT 1\n' "$work" >"$work/t.ini"
rc=0
"$PGHEALTHD" -c "$work/t.ini" check-config >/dev/null 2>&1 || rc=$?
assert_eq 0 "$rc" "timeout = 24d (below statement_timeout's maximum) is fine"

# A check's row filter is read with the configuration: its faults name the
# file, the line and where in the text.
for w in "cl_waiting >|a column, a number or a 'string' expected at the end" \
	"cl_waiting > 1 and|a column, a number or a 'string' expected at the end" \
	"cl_waiting ~ 1|a comparison (=, <>, <, <=, >, >=) expected at character 12" \
	"state = 'waiting|an unterminated string at the end" \
	"a > 1 b|'and', 'or' or the end expected at character 7" \
	"a > 1e999|a number expected at character 5"; do
	printf '[run]\noutput_dir = %s/out\n[check:a]\nsql = SHOW POOLS\nwhere = %s\n' "$work" "${w%%|*}" >"$work/w.ini"
	refused "$work/w.ini" check-config "$work/w.ini:5: where in [check:a]: ${w#*|}" "where = ${w%%|*}"
done
printf '[run]\noutput_dir = %s/out\n[check:a]\nsql = SHOW POOLS\nwhere = %s\n' "$work" \
	"cl_waiting > 0 AND maxwait >= 1 or state = 'it''s' or 2.5 * x < -1" >"$work/w.ini"
rc=0
"$PGHEALTHD" -c "$work/w.ini" check-config >/dev/null 2>&1 || rc=$?
assert_eq 0 "$rc" "a where of every form is read"

finish
