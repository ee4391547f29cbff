#!/bin/bash
# The pgbouncer pack (conf/checks/pgbouncer.ini) against Debian's pgbouncer
# in front of the fixture's server, through its admin console (simple
# protocol only, no transactions), at its default thresholds:
#
#   - two transactions hold both server connections of a pool whose
#     max_db_connections is 2: pgbouncer_db_connections;
#   - a third client queues for a server for over a second:
#     pgbouncer_clients_waiting;
#   - pgbouncer's clock moved 31 s forward (libfaketime, as in
#     packs_defaults): that client has waited 30 s, pgbouncer_max_wait;
#   - PAUSE, then DISABLE, left on a database: pgbouncer_paused_databases.
#
# Each is gone once fixed; a row filter (`where`) that names no column of the
# result fails the check with the column's name; pghealthd leaves no client of
# its own on the console.
#
# Run alone: meson test -C build packs_pgbouncer
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_pgbouncer.sh
# The pool helpers run through wait_for only: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_pgbouncer

bdir=$work/bouncer
mkdir -p "$bdir"
clock=$bdir/clock
faketime_clock "$clock"
# The database declared: one made on demand may be gone when it is not used.
bouncer_db=$PGDATABASE faked "$clock" bouncer_start "$bdir" transaction 2 "max_db_connections = 2"
console="host=127.0.0.1 port=$bouncer_port dbname=pgbouncer user=$PGUSER"
admin() { bouncer_sql -d pgbouncer -c "$1" "${@:2}"; } # SQL [PSQL OPTION...]

pack=$root/conf/checks/pgbouncer.ini
out=$work/out
conf=$work/pack.ini
new_config "$conf" "$out" "conninfo=$console" history=0 max_connections=2 "include=$pack"

findings() {
	status_sql "$out" "SELECT \"check\" FROM status WHERE state = 'findings' AND severity <> 'info'
		ORDER BY 1" | tr '\n' ' ' | sed 's/ $//'
}
column_of() { # CHECK COLUMN: the first row's value
	awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
		NR == 2 && k { print $k }' "$out/$1.csv" 2>/dev/null
}
pool_value() { # COLUMN: the postgres pool's value in SHOW POOLS
	admin "SHOW POOLS" -P tuples_only=off | awk -F'|' -v c="$1" -v db="$PGDATABASE" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 == db { print $(h[c]) }'
}

pool_is() { [ "$(pool_value "$1")" = "$2" ]; }     # COLUMN VALUE
pool_atleast() { [ "$(pool_value "$1")" -ge "$2" ]; } # COLUMN N

bsessions=()
bsession() { # NAME SQL: a psql through pgbouncer, left running
	local fifo=$work/$1.fifo fd
	mkfifo "$fifo"
	PGHOST=127.0.0.1 PGPORT=$bouncer_port PGAPPNAME=$1 psql -X -q -o /dev/null -d "$PGDATABASE" \
		<"$fifo" >"$work/$1.log" 2>&1 &
	started_pids+=($!)
	exec {fd}>"$fifo"
	bsessions+=("$fd")
	printf '%s\n' "$2" >&"$fd"
}

# ---- a pgbouncer with nothing wrong -----------------------------------------------
round=baseline
run_once "$conf" 0 "$round"
assert_eq "" "$(findings)" "$round: no finding"
assert_eq findings "$(status_sql "$out" "SELECT state FROM status WHERE \"check\" = 'pgbouncer_pools'")" \
	"$round: the pools inventory has rows (SHOW POOLS through the console)"
assert_file_exists "$out/pgbouncer_stats.csv" "$round: SHOW STATS inventory"

# ---- both server connections held, a client queued ------------------------------
bsession pgh_t1 "BEGIN; SELECT 1;"
bsession pgh_t2 "BEGIN; SELECT 1;"
wait_for 10000 pool_is sv_active 2 || die "the two transactions hold no server"
bsession pgh_queued "SELECT 1;"
wait_for 10000 pool_is cl_waiting 1 || die "no client waits"
sleep 1.1
round=saturated
run_once "$conf" 1 "$round: a warning"
assert_eq "pgbouncer_clients_waiting pgbouncer_db_connections" "$(findings)" \
	"$round: clients waiting a second and more, server connections at max_db_connections"
assert_eq "$PGDATABASE" "$(column_of pgbouncer_clients_waiting database)" "$round: names the pool's database"
assert_eq 1 "$(column_of pgbouncer_clients_waiting cl_waiting)" "$round: one client waits"
assert_eq 2 "$(column_of pgbouncer_db_connections current_connections)" "$round: 2 server connections"

set_clock "$clock" 31
wait_for 10000 pool_atleast maxwait 31 || die "pgbouncer's clock did not move"
round=waited
run_once "$conf" 2 "$round: critical"
assert_eq "pgbouncer_clients_waiting pgbouncer_db_connections pgbouncer_max_wait" "$(findings)" \
	"$round: a client waiting 30 s is critical"
assert_eq pgh_queued "$(column_of pgbouncer_max_wait application_name)" "$round: names the waiting client"

for fd in "${bsessions[@]}"; do
	printf 'COMMIT;\n\\q\n' >&"$fd"
	exec {fd}>&-
done
wait_for 10000 pool_is cl_waiting 0 || die "a client still waits"
round=released
run_once "$conf" 1 "$round: a warning"
assert_eq "pgbouncer_db_connections" "$(findings)" "$round: the server connections stay, idle, at the limit"
admin "KILL $PGDATABASE" >/dev/null || die "KILL failed"
admin "RESUME $PGDATABASE" >/dev/null 2>&1 || true
round=closed
run_once "$conf" 0 "$round"
assert_eq "" "$(findings)" "$round: no finding once they are closed"

# ---- a database left paused, then disabled ----------------------------------------
for how in "PAUSE paused RESUME" "DISABLE disabled ENABLE"; do
	read -r cmd round undo <<<"$how"
	admin "$cmd $PGDATABASE" >/dev/null || die "$cmd failed"
	run_once "$conf" 1 "$round: a warning"
	assert_eq pgbouncer_paused_databases "$(findings)" "$round: the $round database"
	assert_eq 1 "$(column_of pgbouncer_paused_databases "$round")" "$round: says $round"
	admin "$undo $PGDATABASE" >/dev/null || die "$undo failed"
	round=$undo
	run_once "$conf" 0 "$round"
	assert_eq "" "$(findings)" "$round: no finding"
done

# ---- a filter naming a column the result lacks -----------------------------------
bad=$work/bad.ini
new_config "$bad" "$work/bad-out" "conninfo=$console" history=0
add_check "$bad" pools "SHOW POOLS" "where = cl_queued > 0" severity=warning
run_once "$bad" 3 "bad where: exit 3"
assert_contains "$(cat "$work/bad-out/status.csv")" 'where: the result has no column ""cl_queued""' \
	"bad where: the error names the column"

# ---- nothing of pghealthd's stays on the console ------------------------------------
clients=$(admin "SHOW CLIENTS" | awk -F'|' '$3 == "pgbouncer"' | wc -l)
assert_eq 1 "$clients" "pghealthd left no client on the console (only this psql)"

finish
