#!/bin/bash
# pghealthd's PostgreSQL check pack beside check_postgres 2.25, on one real
# PostgreSQL server with twelve provoked problems.
#
#   bench/vs_check_postgres.sh
#
# Starts a throwaway server (tests/pgfixture.sh, stopped on exit), provokes
# the problems for real and verifies each with psql, then runs one full pass
# of each tool against the same state:
#
#   pghealthd        one `pghealthd once` of the whole pack (PGH_PACK), pool
#                    of 3 connections
#   check_postgres   the actions a check_postgres user runs for these
#                    problems, one after the other (query_time, txn_idle,
#                    txn_time, locks, backends, sequence, replication_slots,
#                    prepared_txns, bloat, disabled_triggers, last_vacuum,
#                    last_autovacuum, txn_wraparound)
#
# and prints, per problem, whether each tool found it, each pass's wall time,
# the transactions each pass rolled back in the postgres database
# (pg_stat_database.xact_rollback before and after) and the totals.
#
# A problem counts as found
#   by pghealthd       when the pack's check meant for it left
#                      output_dir/<check>.csv with a row naming the provoked
#                      object (its pid, name or database);
#   by check_postgres  when the action meant for it exited 1 (WARNING) or
#                      2 (CRITICAL) with output naming the provoked object (as
#                      far as the action's output names anything: `locks`,
#                      `backends` and `prepared_txns` print counts, ages and
#                      database names only).
#
# The problems:
#    1 long-running query          SELECT pg_sleep(900), running past the threshold
#    2 idle in transaction         BEGIN; SELECT 1; then nothing
#    3 row-lock wait               an UPDATE waiting for a row another open transaction updated
#    4 connections near max        46 client sessions, max_connections = 50 (47 usable by
#                                  ordinary roles: superuser_reserved_connections = 3)
#    5 sequence at 96 %            a serial (int4) column's sequence at 96 % of 2^31-1
#    6 inactive logical slot       pg_create_logical_replication_slot(..., 'pgoutput'), no consumer
#    7 invalid index               CREATE UNIQUE INDEX CONCURRENTLY on a column with duplicates
#    8 old prepared transaction    PREPARE TRANSACTION, older than the threshold
#    9 bloated table               250,000 rows of 150 bytes, 90 % deleted evenly, VACUUM ANALYZE
#   10 disabled trigger            ALTER TABLE ... DISABLE TRIGGER
#   11 never-vacuumed table        autovacuum_enabled = false, 20,000 rows, 10,000 updated
#   12 XID age 1.5 billion         server stopped, pg_resetwal -x 1500512256 (with the
#                                  pg_xact segment it needs), started: age(datfrozenxid)
#                                  of every database is ~1.5 billion
#
# Server settings (ALTER SYSTEM, before the restart): wal_level = logical,
# max_connections = 50, autovacuum_freeze_max_age = 2000000000 (its maximum,
# so that autovacuum does not start anti-wraparound vacuums that would
# freeze the databases and take problem 12 away);
# max_prepared_transactions = 10 comes from the fixture.
#
# Thresholds.  Lowered, for both tools alike, so that a run takes about a
# minute instead of the defaults' minutes:
#   long-running query      pghealthd long_running_queries.min_age 5 min -> 10 s;
#                           check_postgres query_time --warning=10s (it has no default)
#   idle in transaction     pghealthd idle_in_transaction.min_age 5 min -> 10 s;
#                           check_postgres txn_idle --warning=10s, txn_time --warning=10s
#                           (no defaults)
#   row-lock wait           pghealthd blocked_sessions.min_wait 30 s -> 10 s;
#                           check_postgres locks --warning=waiting=1 (it counts
#                           waiting locks, no duration; default: 100 locks of any kind)
#   prepared transaction    pghealthd orphaned_prepared_transactions.min_age 5 min -> 10 s;
#                           check_postgres prepared_txns --warning=10 (seconds; its
#                           default, 1 s, made equal)
#   bloat                   pghealthd table_bloat_estimate.min_bloat_bytes 100 MiB -> 10 MiB
#                           (min_bloat_pct stays 50); check_postgres bloat
#                           --warning='10 M and 200%' (default 1 GB; its percent is
#                           relpages / expected pages, so 200 % is pghealthd's 50 %
#                           bloated: half of the pages wasted)
#   never-vacuumed table    pghealthd vacuum_overdue.min_age 1 h -> 10 s;
#                           check_postgres last_vacuum and last_autovacuum
#                           --warning=10s (default 1 day)
# Unchanged (the defaults already see the problem, or there is no threshold):
#   connection_saturation 90 % of usable connections / backends 90 % and 95 %
#   of max_connections; sequence_exhaustion 75 % / sequence 85 % and 95 %;
#   inactive_replication_slots every inactive slot (0 bytes retained) /
#   replication_slots --warning=0 (bytes retained; no default);
#   xid_wraparound 50 % of 2^31 / txn_wraparound 1.3 and 1.4 billion;
#   disabled_triggers (both: any); invalid_indexes (check_postgres has no
#   action for invalid indexes: only a hand-written custom_query would see them).
#
# Environment:
#   PGHEALTHD       the binary (default build/src/pghealthd)
#   PGH_PACK        the pack (default conf/checks/postgresql.ini)
#   CHECK_POSTGRES  check_postgres (default: check_postgres.pl, else
#                   check_postgres, from PATH; Debian installs the latter)
#   VS_KEEP=1       keep the work directory (outputs, logs) instead of
#                   removing it
#   VS_VERBOSE=1    print every check_postgres action's output
#
# Needs: the PostgreSQL 15+ server binaries (pgbench, pg_resetwal among them),
# psql, check_postgres; runs as root (the fixture runs the server as
# postgres) or as the cluster's owner.
set -eu

me=vs_check_postgres
here=$(cd "$(dirname "$0")" && pwd -P)
root=$(dirname "$here")
fixture=$root/tests/pgfixture.sh

PGHEALTHD=${PGHEALTHD:-$root/build/src/pghealthd}
PGH_PACK=${PGH_PACK:-$root/conf/checks/postgresql.ini}
CHECK_POSTGRES=${CHECK_POSTGRES:-$(command -v check_postgres.pl || command -v check_postgres || true)}

# Problem thresholds (seconds) and sizes.
AGE=10			# long query, idle in transaction, lock wait, prepared xact, vacuum
MAXCONN=50		# max_connections
HELD=46			# client sessions held open (problem 4)
NEXT_XID=$((1431 * 1048576))	# 1,500,512,256: the first xid of pg_xact segment 0597

die() {
	echo "$me: $*" >&2
	exit 1
}

[ -x "$PGHEALTHD" ] || die "no pghealthd binary at $PGHEALTHD (set PGHEALTHD)"
[ -f "$PGH_PACK" ] || die "no check pack at $PGH_PACK (set PGH_PACK)"
if [ -z "$CHECK_POSTGRES" ] || [ ! -x "$CHECK_POSTGRES" ]; then
	die "check_postgres not found (package check-postgres; or set CHECK_POSTGRES)"
fi
command -v psql >/dev/null || die "psql not found (package postgresql-client)"

find_pgbench() {
	local d best=""
	if [ -n "${PGH_PG_BINDIR:-}" ] && [ -x "$PGH_PG_BINDIR/pgbench" ]; then
		echo "$PGH_PG_BINDIR/pgbench"
		return
	fi
	while IFS= read -r d; do
		[ -x "$d/pgbench" ] && best=$d/pgbench
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
	[ -n "$best" ] || best=$(command -v pgbench || true)
	[ -n "$best" ] || die "pgbench not found (package postgresql)"
	echo "$best"
}
pgbench=$(find_pgbench)

work=$(mktemp -d "${TMPDIR:-/tmp}/vs-check-postgres.XXXXXX")
pgdir=$work/pg
out=$work/pghealthd-out
mkdir -p "$out" "$work/cp"

# Background sessions (the tests' bg_start): name -> pid, name -> write end
# of its fifo.
declare -A bg_pid=() bg_fd=()
# shellcheck source=tests/packs-lib.sh
. "$root/tests/packs-lib.sh"
filler_pid=""

cleanup() {
	local rc=$? name fd
	trap - EXIT INT TERM
	[ -z "$filler_pid" ] || kill "$filler_pid" 2>/dev/null || true
	for name in "${!bg_pid[@]}"; do
		kill "${bg_pid[$name]}" 2>/dev/null || true
	done
	for name in "${!bg_fd[@]}"; do
		fd=${bg_fd[$name]}
		exec {fd}>&- 2>/dev/null || true
	done
	"$fixture" stop "$pgdir" >/dev/null 2>&1 || true
	[ -z "$filler_pid" ] || wait "$filler_pid" 2>/dev/null || true
	for name in "${!bg_pid[@]}"; do
		wait "${bg_pid[$name]}" 2>/dev/null || true
	done
	if [ "${VS_KEEP:-0}" = 1 ]; then
		echo "$me: kept $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg() {
	psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
}

# One value from a query.
pgval() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d postgres -c "$1"
}

now() {
	echo "$EPOCHREALTIME"
}

elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# A psql session kept open in the background, reading statements from a fifo.
open_session() { bg_start "vs_$1" postgres; }
send() { bg_send "vs_$1" "$2"; }

# The backend pid of a session, waiting until it is connected (10 s at most).
session_backend() {
	local i pid
	for i in $(seq 1 100); do
		pid=$(pgval "SELECT pid FROM pg_stat_activity WHERE application_name = 'vs_$1'")
		if [ -n "$pid" ]; then
			echo "$pid"
			return
		fi
		sleep 0.1
		: "$i"
	done
	die "session $1 did not connect (log: $(cat "$work/$1.log"))"
}

# Wait until a query returns t (20 s at most).
wait_for() {
	local what=$1 sql=$2 i
	for i in $(seq 1 200); do
		[ "$(pgval "$sql")" = t ] && return 0
		sleep 0.1
		: "$i"
	done
	die "timed out waiting for: $what"
}

rollbacks() {
	sleep 1.1	# statistics are flushed at most once a second
	pgval "SELECT xact_rollback FROM pg_stat_database WHERE datname = 'postgres'"
}

# The rollback count must see one rollback of another session as 1.
probe_rollbacks() {
	local a b
	a=$(rollbacks)
	pg -c "BEGIN" -c "ROLLBACK"
	b=$(rollbacks)
	[ $((b - a)) -eq 1 ] || die "a rollback counted as $((b - a)) (before $a, after $b)"
}

# ---- the server ------------------------------------------------------------

echo "$me: starting PostgreSQL in $pgdir" >&2
eval "$("$fixture" start "$pgdir")"
pg -c "ALTER SYSTEM SET wal_level = logical" \
	-c "ALTER SYSTEM SET max_connections = $MAXCONN" \
	-c "ALTER SYSTEM SET autovacuum_freeze_max_age = 2000000000"

# Problem 12: advance the next xid by 1.5 billion.  pg_resetwal -x only moves
# the next xid; the server needs the pg_xact page holding it (a zeroed
# 256 KiB segment, named by xid / 1048576 in hex), and leaves every
# database's datfrozenxid where it was.
"$fixture" stopserver "$pgdir"
"$fixture" tool "$pgdir" pg_resetwal -x "$NEXT_XID" >/dev/null
seg=$(printf '%04X' $((NEXT_XID / 1048576)))
dd if=/dev/zero of="$pgdir/data/pg_xact/$seg" bs=262144 count=1 status=none
chown --reference="$pgdir/data/pg_xact" "$pgdir/data/pg_xact/$seg"
chmod 0600 "$pgdir/data/pg_xact/$seg"
eval "$("$fixture" startserver "$pgdir")"

# ---- problems that are objects ---------------------------------------------

echo "$me: provoking the problems" >&2
# 6 first, so that the WAL written below is retained by the slot.
pg -c "SELECT pg_create_logical_replication_slot('vs_inactive_slot', 'pgoutput')" >/dev/null
# 9: a table with 90 % of its space empty, vacuumed and analyzed.  VACUUM in
# a session of its own: a session's row counts reach the statistics when it
# ends, and the DELETE's, counted after VACUUM's, would show its rows as dead.
pg -c "CREATE TABLE vs_bloated (id int, pad text)" \
	-c "INSERT INTO vs_bloated SELECT g, repeat('x', 150) FROM generate_series(1, 250000) AS g" \
	-c "DELETE FROM vs_bloated WHERE id % 10 <> 0"
pg -c "VACUUM ANALYZE vs_bloated"
pg >/dev/null <<'EOF'
-- 5: a sequence at 96 % of its integer column's range
CREATE TABLE vs_orders (id serial PRIMARY KEY, note text);
SELECT setval('vs_orders_id_seq', 2061584302);	-- 96 % of 2147483647
INSERT INTO vs_orders (note) VALUES ('one more');

-- 10: a disabled trigger
CREATE TABLE vs_audited (id int, v text);
CREATE FUNCTION vs_audit() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER vs_audit_trg BEFORE INSERT OR UPDATE ON vs_audited
	FOR EACH ROW EXECUTE FUNCTION vs_audit();
ALTER TABLE vs_audited DISABLE TRIGGER vs_audit_trg;

-- 11: a table autovacuum may not vacuum, with rows modified, never vacuumed
CREATE TABLE vs_never_vacuumed (id int, v int) WITH (autovacuum_enabled = false);
INSERT INTO vs_never_vacuumed SELECT g, 0 FROM generate_series(1, 20000) AS g;
UPDATE vs_never_vacuumed SET v = 1 WHERE id % 2 = 0;

-- 3: the row the lock wait is about
CREATE TABLE vs_accounts (id int PRIMARY KEY, balance int);
INSERT INTO vs_accounts VALUES (1, 100);

-- 7: the table of the invalid index
CREATE TABLE vs_dupes (x int);
INSERT INTO vs_dupes VALUES (1), (1);

-- 8: a prepared transaction
CREATE TABLE vs_transfers (id int);
BEGIN;
INSERT INTO vs_transfers VALUES (1);
PREPARE TRANSACTION 'vs_old_gxact';
EOF
# 7: the build fails on the duplicates and leaves the index invalid.
if pg -c "CREATE UNIQUE INDEX CONCURRENTLY vs_dupes_x_key ON vs_dupes (x)" >/dev/null 2>&1; then
	die "CREATE UNIQUE INDEX CONCURRENTLY on duplicates succeeded"
fi

# ---- problems that are sessions --------------------------------------------

# In this order, 2 s apart, so that where a tool reports only the longest
# query or idle transaction it is the provoked one (the lock holder is idle
# in a transaction too, and the waiter's UPDATE is a running query).
open_session long
send long "SELECT pg_sleep(900);"
pid_long=$(session_backend long)
sleep 2

open_session idle
send idle "BEGIN; SELECT 1;"
pid_idle=$(session_backend idle)
wait_for "the idle transaction" "SELECT state = 'idle in transaction' FROM pg_stat_activity WHERE pid = $pid_idle"
sleep 2

open_session holder
send holder "BEGIN; UPDATE vs_accounts SET balance = balance - 10 WHERE id = 1;"
pid_holder=$(session_backend holder)
wait_for "the row lock holder" "SELECT state = 'idle in transaction' FROM pg_stat_activity WHERE pid = $pid_holder"

open_session waiter
send waiter "UPDATE vs_accounts SET balance = balance + 10 WHERE id = 1;"
pid_waiter=$(session_backend waiter)
wait_for "the row lock wait" "SELECT $pid_holder = ANY (pg_blocking_pids($pid_waiter))"

# 4: idle sessions up to HELD client backends in all.
sessions=$(pgval "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name LIKE 'vs\_%'")
printf '\\sleep 900 s\n' >"$work/sleep.sql"
PGAPPNAME=vs_filler "$pgbench" -n -c $((HELD - sessions)) -j 1 -T 900 -f "$work/sleep.sql" postgres \
	>"$work/pgbench.log" 2>&1 &
filler_pid=$!
wait_for "$HELD client sessions" \
	"SELECT count(*) >= $HELD FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name LIKE 'vs\_%'"

# Past the thresholds: AGE seconds after the last timed problem began.
sleep $((AGE + 3))

# ---- verify each problem with psql -----------------------------------------

verify() {
	local n=$1 what=$2 sql=$3 got
	got=$(pgval "$sql")
	case "$got" in
	t\|*) printf '  %2s  %-28s %s\n' "$n" "$what" "${got#t|}" >&2 ;;
	*) die "problem $n ($what) is not there: $got" ;;
	esac
}

echo "$me: verified with psql:" >&2
verify 1 "long-running query" \
	"SELECT now() - query_start > interval '$AGE seconds', format('pid %s, %s running for %s', pid, query, date_trunc('second', now() - query_start))
	 FROM pg_stat_activity WHERE pid = $pid_long AND state = 'active'"
verify 2 "idle in transaction" \
	"SELECT now() - state_change > interval '$AGE seconds', format('pid %s, %s for %s', pid, state, date_trunc('second', now() - state_change))
	 FROM pg_stat_activity WHERE pid = $pid_idle"
verify 3 "row-lock wait" \
	"SELECT now() - a.query_start > interval '$AGE seconds' AND l.locktype = 'transactionid',
	        format('pid %s waits %s on %s %s of pid %s (pg_locks.database %s)', a.pid, date_trunc('second', now() - a.query_start),
	               l.locktype, l.mode, pg_blocking_pids(a.pid), coalesce(l.database::text, 'NULL'))
	 FROM pg_stat_activity AS a JOIN pg_locks AS l ON l.pid = a.pid AND NOT l.granted WHERE a.pid = $pid_waiter"
verify 4 "connections near max" \
	"SELECT count(*) >= $HELD, format('%s client sessions, max_connections %s, superuser_reserved_connections %s',
	        count(*), current_setting('max_connections'), current_setting('superuser_reserved_connections'))
	 FROM pg_stat_activity WHERE backend_type = 'client backend'"
verify 5 "sequence at 96 %" \
	"SELECT last_value::numeric / 2147483647 >= 0.96, format('%s last_value %s, %s %% of 2^31-1', sequencename, last_value, round(100 * last_value::numeric / 2147483647, 2))
	 FROM pg_sequences WHERE sequencename = 'vs_orders_id_seq'"
verify 6 "inactive logical slot" \
	"SELECT NOT active, format('%s, %s, active %s, %s retained', slot_name, slot_type, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)))
	 FROM pg_replication_slots WHERE slot_name = 'vs_inactive_slot'"
verify 7 "invalid index" \
	"SELECT NOT indisvalid, format('%s, indisvalid %s', indexrelid::regclass, indisvalid)
	 FROM pg_index WHERE indexrelid = 'vs_dupes_x_key'::regclass"
verify 8 "old prepared transaction" \
	"SELECT now() - prepared > interval '$AGE seconds', format('%s prepared %s ago', gid, date_trunc('second', now() - prepared))
	 FROM pg_prepared_xacts WHERE gid = 'vs_old_gxact'"
verify 9 "bloated table" \
	"SELECT pg_relation_size('vs_bloated') > 5 * count(*) * 192, format('vs_bloated: %s for %s rows (%s of rows)',
	        pg_size_pretty(pg_relation_size('vs_bloated')), count(*), pg_size_pretty(count(*) * 192))
	 FROM vs_bloated"
verify 10 "disabled trigger" \
	"SELECT tgenabled = 'D', format('%s on %s, tgenabled %s', tgname, tgrelid::regclass, tgenabled)
	 FROM pg_trigger WHERE tgname = 'vs_audit_trg'"
verify 11 "never-vacuumed table" \
	"SELECT s.last_vacuum IS NULL AND s.last_autovacuum IS NULL AND s.n_dead_tup > 0,
	        format('%s: %s dead rows, last_vacuum %s, last_autovacuum %s, %s', s.relname, s.n_dead_tup,
	               coalesce(s.last_vacuum::text, 'never'), coalesce(s.last_autovacuum::text, 'never'), c.reloptions)
	 FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid WHERE s.relname = 'vs_never_vacuumed'"
verify 12 "XID age 1.5 billion" \
	"SELECT min(age(datfrozenxid)) >= 1500000000, string_agg(format('%s %s', datname, age(datfrozenxid)), ', ' ORDER BY datname)
	 FROM pg_database"

# ---- pghealthd -------------------------------------------------------------

cat >"$work/pghealthd.ini" <<EOF
[target]
conninfo = host=$PGHOST port=$PGPORT dbname=postgres user=postgres
session_sql = SET lock_timeout = '1s'
session_sql = SET pghealthd.long_running_queries.min_age = '$AGE seconds'
session_sql = SET pghealthd.idle_in_transaction.min_age = '$AGE seconds'
session_sql = SET pghealthd.blocked_sessions.min_wait = '$AGE seconds'
session_sql = SET pghealthd.orphaned_prepared_transactions.min_age = '$AGE seconds'
session_sql = SET pghealthd.table_bloat_estimate.min_bloat_bytes = '10485760'
session_sql = SET pghealthd.vacuum_overdue.min_age = '$AGE seconds'

[pool]
max_connections = 3

[run]
output_dir = $out
include = $PGH_PACK
EOF

probe_rollbacks
echo "$me: pghealthd once" >&2
rb0=$(rollbacks)
t0=$(now)
pgh_rc=0
"$PGHEALTHD" -c "$work/pghealthd.ini" once >"$work/pghealthd.log" 2>&1 || pgh_rc=$?
t1=$(now)
rb1=$(rollbacks)
pgh_time=$(elapsed "$t0" "$t1")
pgh_rollbacks=$((rb1 - rb0))
[ -f "$out/status.csv" ] || die "pghealthd wrote no status.csv (exit $pgh_rc): $(cat "$work/pghealthd.log")"

# ---- check_postgres --------------------------------------------------------

# One action: its output in cp/ACTION.out, its exit status in cp_rc.
declare -A cp_rc=()
cp_actions=()
run_cp() {
	local action=$1 rc=0
	shift
	cp_actions+=("$action${*:+ $*}")
	"$CHECK_POSTGRES" --action="$action" --host="$PGHOST" --port="$PGPORT" \
		--dbuser=postgres --dbname=postgres "$@" >"$work/cp/$action.out" 2>&1 || rc=$?
	cp_rc[$action]=$rc
}

echo "$me: check_postgres" >&2
rb0=$(rollbacks)
t0=$(now)
run_cp query_time --warning="${AGE}s"
run_cp txn_idle --warning="${AGE}s"
run_cp txn_time --warning="${AGE}s"
run_cp locks --warning=waiting=1
run_cp backends
run_cp sequence
run_cp replication_slots --warning=0
run_cp prepared_txns --warning="$AGE"
run_cp bloat --warning="10 M and 200%"
run_cp disabled_triggers
run_cp last_vacuum --warning="${AGE}s"
run_cp last_autovacuum --warning="${AGE}s"
run_cp txn_wraparound
t1=$(now)
rb1=$(rollbacks)
cp_time=$(elapsed "$t0" "$t1")
cp_rollbacks=$((rb1 - rb0))

if [ "${VS_VERBOSE:-0}" = 1 ]; then
	for spec in "${cp_actions[@]}"; do
		action=${spec%% *}
		echo "--- check_postgres $spec: exit ${cp_rc[$action]}" >&2
		cat "$work/cp/$action.out" >&2
	done
fi

# ---- findings --------------------------------------------------------------

# pghealthd: CHECK's file has a row (after the header) matching ERE.
pgh_found() {
	[ -f "$out/$1.csv" ] && tail -n +2 "$out/$1.csv" | grep -Eq -- "$2"
}

# check_postgres: one of the ACTIONS (comma-separated) exited 1 or 2 with
# output matching ERE.
cp_found() {
	local a
	for a in ${1//,/ }; do
		case "${cp_rc[$a]}" in
		1 | 2) grep -Eq -- "$2" "$work/cp/$a.out" && return 0 ;;
		esac
	done
	return 1
}

# number|problem|pghealthd check|its ERE|check_postgres actions|their ERE
problems=(
	"1|long-running query|long_running_queries|^$pid_long,|query_time|PID:$pid_long\\b"
	"2|idle in transaction|idle_in_transaction|^$pid_idle,|txn_idle|PID:$pid_idle\\b"
	"3|row-lock wait|blocked_sessions|^$pid_waiter,|locks|Total \"waiting\" locks: [1-9]"
	"4|connections near max|connection_saturation|.|backends|[0-9]+ of $MAXCONN connections"
	"5|sequence at 96 %|sequence_exhaustion|vs_orders_id_seq|sequence|vs_orders_id_seq"
	"6|inactive logical slot|inactive_replication_slots|vs_inactive_slot|replication_slots|vs_inactive_slot"
	"7|invalid index|invalid_indexes|vs_dupes_x_key|-|-"
	"8|old prepared transaction|orphaned_prepared_transactions|vs_old_gxact|prepared_txns|postgres=[0-9]{4}-"
	"9|bloated table|table_bloat_estimate|vs_bloated|bloat|vs_bloated"
	"10|disabled trigger|disabled_triggers|vs_audit_trg|disabled_triggers|vs_audit_trg"
	"11|never-vacuumed table|vacuum_overdue|vs_never_vacuumed|last_vacuum,last_autovacuum|vs_never_vacuumed"
	"12|XID age 1.5 billion|xid_wraparound|^postgres,|txn_wraparound|postgres: [0-9]{10}"
)

yes_no() {
	if "$@"; then echo yes; else echo no; fi
}

row() {
	printf '| %2s | %-24s | %-30s | %-5s | %-28s | %-5s |\n' "$@"
}

pgh_n=0
cp_n=0
missed=()
rows=()
for p in "${problems[@]}"; do
	IFS='|' read -r n what check pre actions cre <<<"$p"
	ph=$(yes_no pgh_found "$check" "$pre")
	if [ "$actions" = - ]; then
		cf=no
		actions="(no action)"
	else
		cf=$(yes_no cp_found "$actions" "$cre")
	fi
	[ "$ph" = no ] || pgh_n=$((pgh_n + 1))
	[ "$cf" = no ] || cp_n=$((cp_n + 1))
	[ "$ph" = yes ] || missed+=("$check")
	rows+=("$(row "$n" "$what" "$check" "$ph" "${actions//,/, }" "$cf")")
done

echo
echo "pghealthd $("$PGHEALTHD" --version 2>/dev/null | head -n 1) vs $("$CHECK_POSTGRES" --version | head -n 1)," \
	"PostgreSQL $(pgval "SHOW server_version")"
echo
row "#" "problem" "pghealthd check" "found" "check_postgres action" "found"
printf '|----|--------------------------|--------------------------------|-------|------------------------------|-------|\n'
printf '%s\n' "${rows[@]}"
echo
printf '%-15s found %2d of 12   full pass %6s s   rollbacks in postgres: %d   (exit %d, %d checks)\n' \
	pghealthd "$pgh_n" "$pgh_time" "$pgh_rollbacks" "$pgh_rc" $(($(wc -l <"$out/status.csv") - 1))
printf '%-15s found %2d of 12   full pass %6s s   rollbacks in postgres: %d   (%d actions one after the other)\n' \
	check_postgres "$cp_n" "$cp_time" "$cp_rollbacks" "${#cp_actions[@]}"

if [ ${#missed[@]} -gt 0 ]; then
	echo
	echo "Not found by pghealthd (status.csv):"
	for check in "${missed[@]}"; do
		grep -E "^$check," "$out/status.csv" || echo "$check: no line in status.csv"
	done
fi
