#!/bin/bash
# The PostgreSQL check pack (conf/checks/postgresql.ini) run as monitoring
# roles with too few privileges: a check that cannot see what it must look
# at ends `error`, naming the GRANT that fixes it, never `ok`.
#
# Set up as superuser: a sequence at 96 % of its range, a bloated table, a
# session idle in a transaction, a replication connection (a row of
# pg_stat_replication), pg_stat_statements installed, a database without
# CONNECT for PUBLIC, an empty database.  Then `pghealthd once` as:
#   pgh_mon   pg_monitor only: sequence_exhaustion and table_bloat_estimate
#             end `error` naming pg_read_all_data (pg_sequences.last_value is
#             NULL and pg_stats has no rows without SELECT); every other check
#             runs and sees the other roles' sessions and databases.  In an
#             empty database, or with thresholds no table it cannot read
#             could reach, those two are `ok`;
#   pgh_all   pg_monitor + pg_read_all_data: both report their findings, no
#             check fails; a table under row-level security makes
#             table_bloat_estimate fail naming BYPASSRLS, until it is given;
#   pgh_none  neither: the round is not green; every check that would be
#             blind fails naming `GRANT pg_monitor TO pgh_none`, the two above
#             name pg_read_all_data, and no other check fails.
#
# Run alone: meson test -C build packs_privileges
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_privileges.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_privileges

pack=$root/conf/checks/postgresql.ini
[ -f "$pack" ] || die "no check pack at $pack"
# Enabled checks only: the replication heartbeat is off by default.
npack=$(($(grep -c '^\[check:' "$pack") - $(grep -c '^enabled = false' "$pack")))

# ---- the problems, created as superuser --------------------------------------
pgsql >/dev/null <<'EOF' || die "setup failed"
CREATE ROLE pgh_none LOGIN;
CREATE ROLE pgh_mon LOGIN IN ROLE pg_monitor;
CREATE ROLE pgh_all LOGIN IN ROLE pg_monitor, pg_read_all_data;
CREATE SEQUENCE pgh_seq MAXVALUE 100;
SELECT setval('pgh_seq', 96);
CREATE TABLE pgh_bloat (id int, pad text);
INSERT INTO pgh_bloat SELECT g, repeat('x', 60) FROM generate_series(1, 20000) g;
DELETE FROM pgh_bloat WHERE id % 10 <> 0;
VACUUM ANALYZE pgh_bloat;
CREATE EXTENSION pg_stat_statements;
CREATE DATABASE pgh_private;
REVOKE CONNECT ON DATABASE pgh_private FROM PUBLIC;
CREATE DATABASE pgh_empty;
EOF
bg_start pgh_idle
bg_send pgh_idle "BEGIN; SELECT 1;"
bg_start pgh_walsender "dbname=$PGDATABASE replication=database"
wait_sql "SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'pgh_idle'
	AND state = 'idle in transaction'" "session idle in a transaction"
wait_sql "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'pgh_walsender'" \
	"replication connection"

# ---- configurations ----------------------------------------------------------
lowered=(
	"SET pghealthd.table_bloat_estimate.min_bloat_bytes = 0"
	"SET pghealthd.idle_in_transaction.min_age = '0'"
)

# run_as NAME ROLE DBNAME EXPECTED_EXIT [SESSION_SQL...]: one round; its
# status.csv as "check|state|rows|error" lines in $work/NAME.status.
run_as() {
	local name=$1 role=$2 db=$3 rc=$4 conf=$work/$1.ini
	shift 4
	round=$name
	out=$work/$name/out
	pack_config "$conf" "$role" "$db" "$out" "$@"
	run_once "$conf" "$rc" "$round ($role): exit code"
	if ! status_sql "$out" "SELECT \"check\", state, rows,
			replace(coalesce(error, ''), E'\n', ' ') FROM status ORDER BY 1" \
		>"$work/$name.status"; then
		fail "$round: status.csv loads with COPY"
		: >"$work/$name.status"
	fi
	assert_eq "$npack" "$(wc -l <"$work/$name.status")" "$round: one status row per pack check"
}

state_of() { # CHECK
	awk -F'|' -v c="$1" '$1 == c { print $2 }' "$work/$round.status"
}

error_of() { # CHECK
	awk -F'|' -v c="$1" '$1 == c { print $4 }' "$work/$round.status"
}

# The checks that ended error or timeout, one "check: error" a line, minus
# those named.
failed_except() { # CHECK...
	local skip=" $* "
	awk -F'|' '$2 == "error" || $2 == "timeout" { print $1 ": " $4 }' "$work/$round.status" |
		while IFS= read -r line; do
			case "$skip" in
			*" ${line%%:*} "*) ;;
			*) echo "$line" ;;
			esac
		done
}

expect_state() { # CHECK STATE
	assert_eq "$2" "$(state_of "$1")" "$round: $1 ends $2"
}

# The check fails, its error naming TEXT.
expect_error() { # CHECK TEXT
	local st err
	st=$(state_of "$1")
	err=$(error_of "$1")
	if [ "$st" = error ] && [[ $err == *"$2"* ]]; then
		ok "$round: $1 fails naming [$2]"
	else
		fail "$round: $1 fails naming [$2]: state [$st], error [$err]"
	fi
}

csv_has() { # CHECK TEXT
	assert_contains "$(cat "$out/$1.csv" 2>/dev/null)" "$2" "$round: $1 reports $2"
}

# The checks that read pg_stat_activity, pg_stat_replication, every setting,
# pg_stat_statements or the size of every database: blind without pg_monitor.
needs_pg_monitor=(long_running_queries long_running_transactions idle_in_transaction
	blocked_sessions connection_saturation wait_events replication_lag
	settings_pending_restart top_statements database_sizes database_growth wal_pileup)
# The checks that read the sequences' values and the columns' statistics:
# blind without SELECT on them (pg_read_all_data).
needs_read_all_data=(sequence_exhaustion table_bloat_estimate)

# The roles have no CONNECT on pgh_private: the database-scoped checks leave
# it out, as README says to (section (d) runs without that).
pack_exclude=pgh_private

# ---- (a) pg_monitor only -----------------------------------------------------
run_as monitor pgh_mon "$PGDATABASE" 3 "${lowered[@]}"
expect_error sequence_exhaustion "GRANT pg_read_all_data TO pgh_mon"
expect_error table_bloat_estimate "GRANT pg_read_all_data TO pgh_mon"
assert_contains "$(error_of sequence_exhaustion)" "public.pgh_seq" \
	"$round: sequence_exhaustion names the sequence it cannot read"
assert_contains "$(error_of table_bloat_estimate)" "public.pgh_bloat" \
	"$round: table_bloat_estimate names the table it cannot read"
assert_eq "" "$(failed_except "${needs_read_all_data[@]}")" "$round: no other check fails"
expect_state idle_in_transaction findings
csv_has idle_in_transaction pgh_idle
csv_has database_sizes pgh_private

# Nothing to read: an empty database is healthy.
pack_databases=pgh_empty
run_as monitor-empty pgh_mon pgh_empty 0 "${lowered[0]}"
pack_databases=
expect_state sequence_exhaustion ok
expect_state table_bloat_estimate ok
assert_eq "" "$(failed_except)" "$round: no check fails"

# The default min_bloat_bytes (100 MiB): no table this role cannot read is
# big enough to be reported, so there is nothing it misses.
run_as monitor-default pgh_mon "$PGDATABASE" 3
expect_state table_bloat_estimate ok
expect_error sequence_exhaustion "GRANT pg_read_all_data TO pgh_mon"
assert_eq "" "$(failed_except sequence_exhaustion)" "$round: no other check fails"

# ---- (b) pg_monitor + pg_read_all_data ---------------------------------------
run_as all pgh_all "$PGDATABASE" 1 "${lowered[@]}"
assert_eq "" "$(failed_except)" "$round: no check fails"
expect_state sequence_exhaustion findings
expect_state table_bloat_estimate findings
csv_has sequence_exhaustion pgh_seq
csv_has table_bloat_estimate pgh_bloat

# Row-level security hides a table's statistics even from pg_read_all_data.
pgsql -c "ALTER TABLE pgh_bloat ENABLE ROW LEVEL SECURITY" >/dev/null || die "ENABLE RLS failed"
run_as all-rls pgh_all "$PGDATABASE" 3 "${lowered[@]}"
expect_error table_bloat_estimate "ALTER ROLE pgh_all BYPASSRLS"
expect_state sequence_exhaustion findings
assert_eq "" "$(failed_except table_bloat_estimate)" "$round: no other check fails"
pgsql -c "ALTER ROLE pgh_all BYPASSRLS" >/dev/null || die "BYPASSRLS failed"
run_as all-bypassrls pgh_all "$PGDATABASE" 1 "${lowered[@]}"
assert_eq "" "$(failed_except)" "$round: no check fails"
csv_has table_bloat_estimate pgh_bloat
pgsql -c "ALTER TABLE pgh_bloat DISABLE ROW LEVEL SECURITY" >/dev/null || die "DISABLE RLS failed"

# ---- (c) neither ---------------------------------------------------------------
run_as none pgh_none "$PGDATABASE" 3 "${lowered[@]}"
for c in "${needs_pg_monitor[@]}"; do
	expect_error "$c" "GRANT pg_monitor TO pgh_none"
done
for c in "${needs_read_all_data[@]}"; do
	expect_error "$c" "GRANT pg_read_all_data TO pgh_none"
done
assert_eq "" "$(failed_except "${needs_pg_monitor[@]}" "${needs_read_all_data[@]}")" \
	"$round: no other check fails"

# ---- (d) a database the role cannot connect to ------------------------------
# Every database-scoped check fails naming it, and still writes what it
# found in the others.
pack_exclude=
run_as no-connect pgh_all "$PGDATABASE" 3 "${lowered[@]}"
expect_error sequence_exhaustion "pgh_private: could not connect to database pgh_private"
assert_contains "$(error_of sequence_exhaustion)" "permission denied" \
	"$round: the server's reason is in the error"
csv_has sequence_exhaustion "$PGDATABASE,public,pgh_seq"
expect_error invalid_indexes "pgh_private"
expect_state database_sizes findings

finish
