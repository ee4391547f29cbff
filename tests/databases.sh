#!/bin/bash
# Database-scoped checks cover every database of the cluster:
#  1. findings planted outside the conninfo's database (an invalid index
#     left by a failed CREATE UNIQUE INDEX CONCURRENTLY, a sequence near its
#     maximum, dead rows on a table with autovacuum off) are reported by the
#     pack, in one <check>.csv whose lines are the database, a comma, and
#     exactly what COPY ... CSV gives in that database, in name order
#  2. a database the role may not connect to: its error names it, the other
#     databases' findings are written; a database that accepts no
#     connections and templates are left out; databases / exclude_databases
#  3. a database created, and one dropped, between two rounds of the daemon
#  4. 20 databases on a pool of 3: never more than 3 sessions (sampled),
#     and none refused by the role's CONNECTION LIMIT 3, and no socket leaked
#  5. exec --database, and check-config showing each check's scope
#
# Run alone: meson test -C build databases
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/databases.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup databases jq
pack=$here/../conf/checks/postgresql.ini
role=pgh_dbmon
role_conninfo="conninfo=host='$PGHOST' port=$PGPORT dbname=$PGDATABASE user=$role"

pgsql <<SQL || die "setup failed"
CREATE ROLE $role LOGIN;
GRANT pg_monitor, pg_read_all_data TO $role;
CREATE DATABASE db_index;
CREATE DATABASE db_seq;
CREATE DATABASE db_dead;
CREATE DATABASE db_deny;
REVOKE CONNECT ON DATABASE db_deny FROM PUBLIC;
CREATE DATABASE db_closed;
ALTER DATABASE db_closed ALLOW_CONNECTIONS false;
SQL
# An invalid index: CREATE UNIQUE INDEX CONCURRENTLY on duplicates fails and
# leaves it behind.
pgsql -d db_index -c "CREATE TABLE t (a int)" -c "INSERT INTO t VALUES (1), (1)"
pgsql -d db_index -c "CREATE UNIQUE INDEX CONCURRENTLY t_a ON t (a)" 2>/dev/null &&
	die "CREATE UNIQUE INDEX CONCURRENTLY should have failed"
pgsql -d db_seq -c "CREATE SEQUENCE near MAXVALUE 1000" -c "SELECT setval('near', 990)" >/dev/null
pgsql -d db_dead -c "CREATE TABLE churn (a int) WITH (autovacuum_enabled = false)" \
	-c "INSERT INTO churn SELECT g FROM generate_series(1, 20000) g" \
	-c "DELETE FROM churn WHERE a > 5000"
wait_for 10000 test "$(pgsql -d db_dead -c "SELECT n_dead_tup >= 15000 FROM pg_stat_user_tables
	WHERE relname = 'churn'")" = t || die "dead rows never showed in pg_stat_user_tables"

# pack_conf FILE OUTDIR [KEY=VALUE...]: the pack as shipped, as the role.
pack_conf() {
	write_config "$1" "$2" 60s 3 "$role_conninfo" "include=$pack" "${@:3}"
}

# The reference for one database: DB,<COPY line> for each row, in order.
reference() { # SQLFILE DB...
	local sql db
	sql=$(cat "$1")
	shift
	for db in "$@"; do
		PGOPTIONS='-c TimeZone=UTC -c client_min_messages=warning' psql -X -q \
			-v ON_ERROR_STOP=1 -d "$db" -c "COPY ($sql) TO STDOUT WITH (FORMAT csv)" |
			sed "s/^/$db,/"
	done
}

# ===========================================================================
# 1. findings outside the conninfo's database
# ===========================================================================
conf=$work/pack.ini
out=$work/out
pack_conf "$conf" "$out" exclude_databases=db_deny
run_once "$conf" 1 "the pack over every database"
snapshot "$out"
for c in invalid_indexes sequence_exhaustion dead_tuples; do
	assert_eq findings "$(snap_get "$c" 2)" "$c: findings"
	assert_match '^database,' "$(head -1 "$out/$c.csv")" "$c: the header starts with database"
done
assert_contains "$(cat "$out/invalid_indexes.csv")" "db_index,public,t,t_a," \
	"invalid_indexes: the index in db_index"
assert_contains "$(cat "$out/sequence_exhaustion.csv")" "db_seq,public,near" \
	"sequence_exhaustion: the sequence in db_seq"
assert_contains "$(cat "$out/dead_tuples.csv")" "db_dead,public,churn" \
	"dead_tuples: the table in db_dead"
# Byte for byte: the database, a comma, then COPY's line, in name order.
dbs=$(pgsql -c "SELECT string_agg(datname, ' ' ORDER BY datname COLLATE \"C\") FROM pg_database
	WHERE datallowconn AND NOT datistemplate AND datname <> 'db_deny'")
for c in invalid_indexes sequence_exhaustion; do
	# shellcheck disable=SC2086 # one database name per word
	reference "$here/../conf/checks/postgresql/$c.sql" $dbs >"$work/$c.expected"
	tail -n +2 "$out/$c.csv" >"$work/$c.got"
	assert_files_equal "$work/$c.expected" "$work/$c.got" "$c: the lines COPY gives, per database"
done
assert_eq 1 "$(snap_get invalid_indexes 3)" "invalid_indexes: rows summed over the databases"
scoped=$(sed -n 's/^\[check:\(.*\)\]$/\1/p' "$pack" | while read -r c; do
	awk -v c="$c" '$0 == "[check:" c "]" { f = 1; next } /^\[/ { f = 0 }
		f && $0 == "scope = database" { print c }' "$pack"
done)
assert_eq 12 "$(wc -w <<<"$scoped")" "the pack has 12 database-scoped checks"
rows=$(for c in $scoped; do cat "$out/$c.csv" 2>/dev/null; done)
assert_eq "" "$(grep '^db_closed,\|^template' <<<"$rows" || true)" \
	"no row from a database without connections or a template"

# ===========================================================================
# 2. a database the role may not connect to; databases / exclude_databases
# ===========================================================================
pack_conf "$conf" "$out"
run_once "$conf" 3 "a database the role may not connect to"
snapshot "$out"
assert_eq error "$(snap_get invalid_indexes 2)" "invalid_indexes: error"
assert_contains "$(snap_get invalid_indexes 5)" "db_deny: could not connect to database db_deny" \
	"the error names the database"
assert_contains "$(snap_get invalid_indexes 5)" "permission denied" "with the server's reason"
assert_contains "$(cat "$out/invalid_indexes.csv")" "db_index,public,t,t_a," \
	"the other databases' findings are still written"
assert_eq 1 "$(snap_get invalid_indexes 3)" "rows: the findings written"
assert_eq findings "$(snap_get database_sizes 2)" "a cluster-scoped check is unharmed"

pack_conf "$conf" "$work/out-list" "databases=db_seq, db_index" "exclude_databases=db_i*"
run_once "$conf" 1 "databases and exclude_databases"
assert_contains "$(cat "$work/out-list/sequence_exhaustion.csv")" "db_seq," "db_seq is listed"
assert_file_absent "$work/out-list/invalid_indexes.csv" "db_index is excluded by a glob"

# ===========================================================================
# 3. a database created and one dropped between rounds
# ===========================================================================
conf=$work/run.ini
out=$work/out-run
write_config "$conf" "$out" 1s 3 "$role_conninfo" exclude_databases=db_deny
add_check "$conf" seqs "SELECT sequencename FROM pg_sequences WHERE last_value > 500" \
	"scope = database"
start_daemon "$conf" "$work/run.log"
wait_for 5000 grep -q '^db_seq,' "$out/seqs.csv" || fail "round 1: db_seq's sequence"
pgsql -c "CREATE DATABASE db_new"
pgsql -d db_new -c "CREATE SEQUENCE fresh" -c "SELECT setval('fresh', 600)" >/dev/null
wait_for 5000 grep -q '^db_new,fresh$' "$out/seqs.csv" &&
	ok "a database created between rounds is covered from the next round" ||
	fail "a database created between rounds is covered from the next round"
pgsql -c "DROP DATABASE db_seq WITH (FORCE)"
wait_for 5000 bash -c "! grep -q '^db_seq,' '$out/seqs.csv'" &&
	ok "a dropped database is forgotten" || fail "a dropped database is forgotten"
snapshot "$out"
assert_eq findings "$(snap_get seqs 2)" "no error for the dropped database"
stop_daemon "$dpid" 3000 "after databases came and went" "$work/run.log"

# ===========================================================================
# 4. 20 databases on a pool of 3
# ===========================================================================
for i in $(seq -w 1 20); do
	echo "CREATE DATABASE db_many_$i;"
done | pgsql
conf=$work/many.ini
out=$work/out-many
write_config "$conf" "$out" 1s 3 "$role_conninfo" exclude_databases=db_deny \
	application_name=pgh-many
for c in a b c d; do
	add_check "$conf" "many_$c" "SELECT current_database() AS db, pg_sleep(0.01) WHERE false" \
		"scope = database"
done
add_check "$conf" cluster_one "SELECT 1 AS one"
# As a DBA caps a monitoring role: a connection the server still counts
# (its backend not yet gone) would make the next one fail.
pgsql -c "ALTER ROLE $role CONNECTION LIMIT 3"
start_daemon "$conf" "$work/many.log"
peak=0
t_end=$(($(now_ms) + 3500))
while [ "$(now_ms)" -lt "$t_end" ]; do
	n=$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgh-many'")
	[ "${n:-0}" -le "$peak" ] || peak=$n
	sleep 0.02
done
snapshot "$out"
# Every connection closed over these rounds left no descriptor behind.
sockets=$(find "/proc/$dpid/fd" -lname 'socket:*' 2>/dev/null | wc -l)
stop_daemon "$dpid" 3000 "20 databases" "$work/many.log"
echo "figure: peak sessions of pghealthd over 20 databases with max_connections = 3: $peak"
assert_le "$peak" 3 "never more than max_connections sessions"
assert_le "$sockets" 6 "after rounds over 20 databases the daemon holds $sockets sockets (3 open, 3 closing at most)"
assert_eq 0 "$(grep -c 'too many connections' "$work/many.log" || true)" \
	"no connection refused by the role's CONNECTION LIMIT 3"
assert_le 2 "$peak" "the pool was used (sessions seen)"
for c in a b c d; do
	assert_eq ok "$(snap_get "many_$c" 2)" "many_$c: ok in every database"
done
assert_eq findings "$(snap_get cluster_one 2)" "the cluster-scoped check ran beside them"

# ===========================================================================
# 5. exec --database, check-config
# ===========================================================================
out_json=$(pgh -c "$conf" exec --database db_index "SELECT current_database() AS db")
assert_eq db_index "$(jq -r '.rows[0].db' <<<"$out_json")" "exec --database runs there"
rc=0
pgh -c "$conf" exec --database db_deny "SELECT 1" >"$work/deny.json" 2>/dev/null || rc=$?
assert_ne 0 "$rc" "exec --database on a database it may not connect to fails"
assert_contains "$(cat "$work/deny.json")" "db_deny" "the error names the database"
pack_conf "$work/show.ini" "$work/out-show"
assert_match 'scope = database' "$(pgh -c "$work/show.ini" check-config |
	sed -n '/^\[check:invalid_indexes\]/,/^sql =/p')" "check-config: invalid_indexes has scope = database"
assert_match 'scope = cluster' "$(pgh -c "$work/show.ini" check-config |
	sed -n '/^\[check:database_sizes\]/,/^sql =/p')" "check-config: database_sizes has scope = cluster"

finish
