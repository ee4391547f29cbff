#!/bin/bash
# The Amazon Redshift check packs (conf/checks/redshift.ini for provisioned
# clusters, conf/checks/redshift-serverless.ini for Serverless) cannot run
# against Redshift here.  They run instead against tests/data/redshift/
# fixture.sql: views with the documented names, columns and types of every
# system table and view the packs read, and shims for getdate() and
# convert_timezone(), in a schema that session_sql puts first on
# search_path.  So every pack query must parse, plan and run (names and
# columns are checked, not Redshift semantics); a few fixture rows must make
# exactly the expected checks find something.
#
# The fixture models a cluster of two databases: it is loaded into both (the
# system tables hold the same rows in each), SVV_TABLE_INFO rows are planted
# in the second only, and the `scope = database` checks must find them there
# and name the database.  The time windows must not depend on the session's
# time zone: a round with [target] timezone far from UTC finds the same.
# Also: each pack has enough checks, every system object a pack names is in
# the fixture, and the Serverless pack names only SYS_ views.  Privileges:
# packs_redshift_privileges.sh.
#
# Run alone: meson test -C build packs_redshift
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_redshift.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_redshift

db=redshift_fixture_db
db2=redshift_fixture_db2
rs_dbs="$db $db2"
rs_fixture_load "$db"
rs_fixture_load "$db2" "$db"
pgsql -d "$db2" >/dev/null <<'EOF_SQL' || die "planting SVV_TABLE_INFO rows in $db2 failed"
INSERT INTO redshift_fixture_data.svv_table_info
       ("database", "schema", table_id, "table", encoded, diststyle, sortkey1, size,
        pct_used, unsorted, stats_off, tbl_rows, skew_rows)
VALUES (current_database(), 'public', 200100, 'skewed', 'Y', 'KEY(id)', 'id', 2048,
        0.1, 0, 0, 5000000, 8),
       (current_database(), 'public', 200101, 'raw_db2', 'N', 'AUTO(EVEN)', 'AUTO(SORTKEY)',
        150, 0.01, 0, 0, 1000, 1),
       (current_database(), 'public', 200102, 'auto_db2', 'N, AUTO(ENCODE)', 'AUTO(EVEN)',
        'AUTO(SORTKEY)', 5000, 0.1, 0, 0, 1000, 1);
EOF_SQL

# The shim follows the session's time zone, as GETDATE does.
assert_eq "9" "$(pgsql -d "$db" -c "SET TimeZone = 'Asia/Tokyo'" -c "SELECT round(extract(epoch FROM
	redshift_fixture.getdate() - (now() AT TIME ZONE 'UTC')) / 3600)")" \
	"fixture: getdate() is in the session's time zone"

# The system objects (STL_, STV_, SVL_, SVV_, SVCS_, SYS_) a pack's SQL names.
objects_of() { # PACKDIR
	grep -ohiE '\b(stl|stv|svl|svv|svcs|sys)_[a-z0-9_]+' "$1"/*.sql | tr '[:upper:]' '[:lower:]' |
		sort -u
}

# check_pack NAME MIN_CHECKS EXPECTED_FINDINGS...: the pack's shape, then a
# round as superuser (exit 1: warnings only) finding exactly the checks
# named, every other check ok; then the same round in a time zone 14 hours
# from UTC.
check_pack() {
	local name=$1 min=$2 ini=$root/conf/checks/$1.ini n o missing="" want
	shift 2
	[ -f "$ini" ] || die "no pack $ini"
	n=$(grep -c '^\[check:' "$ini")
	assert_le "$min" "$n" "$name: at least $min checks ($n)"
	assert_eq "$n" "$(find "$root/conf/checks/$name" -name '*.sql' | wc -l)" \
		"$name: one SQL file per check"
	for o in $(objects_of "$root/conf/checks/$name"); do
		if [ "$(pgsql -d "$db" -c "SELECT to_regclass('redshift_fixture.$o') IS NOT NULL")" != t ]; then
			missing="$missing $o"
		fi
	done
	assert_eq "" "$missing" "$name: every system table or view it reads is in the fixture"

	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	rs_round "$name" "$name" "$PGUSER" 1
	assert_eq "$n" "$(wc -l <"$work/$name/status.txt")" "$name: one status row per check"
	assert_eq "" "$(rs_failed "$name")" "$name: every check ran without error or timeout"
	assert_eq "$want" "$(rs_findings "$name")" \
		"$name: exactly the checks the fixture rows provoke have findings"

	rs_round "$name-tz" "$name" "$PGUSER" 1 timezone=Pacific/Kiritimati
	assert_eq "" "$(rs_failed "$name-tz")" "$name: every check ran in UTC+14"
	assert_eq "$want" "$(rs_findings "$name-tz")" "$name: the same findings in UTC+14"
}

csv_of() { # ROUND CHECK
	cat "$work/$1/out/$2.csv" 2>/dev/null || true
}

check_pack redshift 20 \
	disk_usage long_running_queries long_open_transactions blocked_sessions load_errors \
	oldest_transaction_xid_age commit_queue_waits long_held_table_locks serialization_conflicts \
	wlm_queue_state concurrency_scaling_usage top_queries disk_based_queries largest_tables \
	column_encoding_missing table_skew
c=$(csv_of redshift disk_usage)
assert_contains "$c" "0,900,1000,90.0" "redshift: disk_usage computes the node's percentage"
assert_eq 2 "$(wc -l <<<"$c")" "redshift: disk_usage leaves tossed blocks out (node 1: 75 %)"
c=$(csv_of redshift blocked_sessions)
assert_contains "$c" ",4242,etl,AccessExclusiveLock," \
	"redshift: blocked_sessions shows the conflicting lock held"
assert_contains "$c" "select * from big_table" \
	"redshift: blocked_sessions shows the holder's statement"
assert_eq 2 "$(wc -l <<<"$c")" "redshift: a compatible lock granted on the table is no holder"
# The waiting statement began 10 minutes ago, its transaction 2 hours ago.
assert_match "^$db,4343,bi,[^,]+,(59[0-9]|60[0-9]),AccessShareLock,100500,,select count" \
	"$(sed -n 2p <<<"$c")" \
	"redshift: blocked_sessions times the wait from the waiting statement"
c=$(csv_of redshift long_held_table_locks)
assert_contains "$c" "$db,100500,,Holding write lock,1001,4242,etl," \
	"redshift: long_held_table_locks reports the holder"
assert_eq 2 "$(wc -l <<<"$c")" "redshift: long_held_table_locks leaves the waiting request out"
assert_eq "" "$(cd "$work/redshift/out" &&
	grep "^$db2," load_errors.csv serialization_conflicts.csv blocked_sessions.csv)" \
	"redshift: cluster-wide rows are reported in their own database only"
c=$(csv_of redshift table_skew)
assert_contains "$c" "$db2,public,skewed," "redshift: table_skew finds the second database's table"
assert_eq 2 "$(wc -l <<<"$c")" "redshift: table_skew finds nothing in the first database"
c=$(csv_of redshift column_encoding_missing)
assert_contains "$c" "$db,public,big_table,N,200," "redshift: column_encoding_missing, first db"
assert_contains "$c" "$db2,public,raw_db2,N,150," "redshift: column_encoding_missing, second db"
assert_eq 3 "$(wc -l <<<"$c")" "redshift: ENCODE AUTO tables are not findings"
assert_contains "$(csv_of redshift largest_tables)" "$db,public,auto_pending," \
	"redshift: largest_tables lists each database's tables"
c=$(csv_of redshift top_queries)
assert_contains "$c" ",primary-scale," "redshift: top_queries shows concurrency scaling queries"
assert_contains "$c" ",90.5,0.0," "redshift: top_queries keeps tenths of seconds"
assert_contains "$(csv_of redshift wlm_queue_state)" "100,Default queue,auto,,6,3,0" \
	"redshift: wlm_queue_state shows no slots under automatic WLM"
assert_contains "$(csv_of redshift concurrency_scaling_usage)" "7200,40,7200,0," \
	"redshift: concurrency_scaling_usage: a day over its credit, nothing surely billed"

check_pack redshift-serverless 12 long_running_queries load_errors usage_summary top_queries
assert_contains "$(csv_of redshift-serverless usage_summary)" "0.27,0.27,8,8.0,2050," \
	"redshift-serverless: usage_summary sums RPU-hours, keeps the newest storage"

# Serverless refuses the STL/STV/SVL/SVV/SVCS tables: its pack must not name any.
leaks=$(grep -nHiE '\b(stl|stv|svl|svv|svcs)_[a-z0-9_]+' \
	"$root/conf/checks/redshift-serverless.ini" "$root/conf/checks/redshift-serverless"/*.sql || true)
assert_eq "" "$leaks" "redshift-serverless: only SYS_ views"

finish
