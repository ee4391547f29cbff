#!/bin/bash
# The Amazon Redshift check packs (conf/checks/redshift.ini for provisioned
# clusters, conf/checks/redshift-serverless.ini for Serverless) cannot run
# against Redshift here.  They run instead against tests/data/redshift/
# fixture.sql: tables with the documented names, columns and types of every
# system table and view the packs read, and a shim for getdate(), in a schema
# that session_sql puts first on search_path.  So every pack query must
# parse, plan and run (names and columns are checked, not Redshift
# semantics); a few fixture rows must make exactly the expected checks find
# something.  Also: each pack has enough checks, every system object a pack
# names is in the fixture, and the Serverless pack names only SYS_ views.
#
# Run alone: meson test -C build packs_redshift
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_redshift.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_redshift

fixture=$here/data/redshift/fixture.sql
db=redshift_fixture_db

pgsql -c "CREATE DATABASE $db" >/dev/null || die "CREATE DATABASE failed"
PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
	-f "$fixture" >/dev/null || die "loading $fixture failed"

# The system objects (STL_, STV_, SVL_, SVV_, SVCS_, SYS_) a pack's SQL names.
objects_of() { # PACKDIR
	grep -ohiE '\b(stl|stv|svl|svv|svcs|sys)_[a-z0-9_]+' "$1"/*.sql | tr '[:upper:]' '[:lower:]' | sort -u
}

# run_pack NAME MIN_CHECKS EXPECTED_EXIT EXPECTED_FINDINGS...
run_pack() {
	local name=$1 min=$2 rc=$3 ini=$root/conf/checks/$1.ini out=$work/$1/out conf n o
	local missing="" bad got want
	shift 3
	mkdir -p "$out"
	[ -f "$ini" ] || die "no pack $ini"

	n=$(grep -c '^\[check:' "$ini")
	assert_le "$min" "$n" "$name: at least $min checks ($n)"
	assert_eq "$n" "$(find "$root/conf/checks/$name" -name '*.sql' | wc -l)" \
		"$name: one SQL file per check"

	# Every system object the pack reads exists in the fixture.
	for o in $(objects_of "$root/conf/checks/$name"); do
		if [ "$(pgsql -d "$db" -c "SELECT to_regclass('redshift_fixture.$o') IS NOT NULL")" != t ]; then
			missing="$missing $o"
		fi
	done
	assert_eq "" "$missing" "$name: every system table or view it reads is in the fixture"

	conf=$work/$name/pghealthd.ini
	new_config "$conf" "$out" "conninfo=host='$PGHOST' port=$PGPORT dbname=$db user=$PGUSER" \
		"session_sql=SET search_path = redshift_fixture, public" history=0 "include=$ini"
	pgh -c "$conf" check-config >/dev/null 2>"$conf.check" ||
		fail "$name: check-config accepts the pack: $(cat "$conf.check")"
	run_once "$conf" "$rc" "$name: one round against the fixture"
	if ! status_sql "$out" "SELECT \"check\", state, replace(coalesce(error, ''), E'\n', ' ')
			FROM status ORDER BY 1" >"$work/$name/status.txt"; then
		fail "$name: status.csv loads with COPY"
		return
	fi
	assert_eq "$n" "$(wc -l <"$work/$name/status.txt")" "$name: one status row per check"
	bad=$(awk -F'|' '$2 != "ok" && $2 != "findings" { print $1 " (" $2 "): " $3 }' "$work/$name/status.txt")
	assert_eq "" "$bad" "$name: every check ran without error or timeout"
	got=$(awk -F'|' '$2 == "findings" { print $1 }' "$work/$name/status.txt" | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	assert_eq "$want" "$got" "$name: exactly the checks the fixture rows provoke have findings"
}

run_pack redshift 20 1 \
	disk_usage long_running_queries long_open_transactions blocked_sessions \
	load_errors oldest_transaction_xid_age commit_queue_waits
assert_contains "$(cat "$work/redshift/out/blocked_sessions.csv" 2>/dev/null)" \
	"select * from big_table" "redshift: blocked_sessions shows the holder's statement"
assert_contains "$(cat "$work/redshift/out/disk_usage.csv" 2>/dev/null)" "0,900,1000,90.0" \
	"redshift: disk_usage computes the node's percentage"

run_pack redshift-serverless 12 1 long_running_queries load_errors usage_summary top_queries
assert_contains "$(cat "$work/redshift-serverless/out/usage_summary.csv" 2>/dev/null)" \
	"0.27,0.27,8,8.0,2050," "redshift-serverless: usage_summary sums RPU-hours, keeps the newest storage"

# Serverless refuses the STL/STV/SVL/SVV/SVCS tables: its pack must not name any.
leaks=$(grep -nHiE '\b(stl|stv|svl|svv|svcs)_[a-z0-9_]+' \
	"$root/conf/checks/redshift-serverless.ini" "$root/conf/checks/redshift-serverless"/*.sql || true)
assert_eq "" "$leaks" "redshift-serverless: only SYS_ views"

finish
