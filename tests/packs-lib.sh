# shellcheck shell=bash
# What the pack tests share (sourced by daemon-lib.sh): background psql
# sessions that hold a state open, the configuration of a pack as shipped,
# and the Redshift fixture.

# ---- background psql sessions ----------------------------------------------
# bg_start NAME [CONNINFO]: a psql session (application_name NAME) that reads
# SQL from a fifo, so it can sit idle inside a transaction for as long as the
# test wants; bg_send NAME SQL; bg_stop NAME terminates it (the EXIT trap
# stops those left).
bg_start() {
	local name=$1 fifo=$work/$1.fifo fd
	mkfifo "$fifo"
	PGAPPNAME=$name PGOPTIONS='-c client_min_messages=warning' \
		psql -X -q -o /dev/null ${2:+"$2"} <"$fifo" >"$work/$name.log" 2>&1 &
	bg_pid[$name]=$!
	exec {fd}>"$fifo"
	bg_fd[$name]=$fd
}

bg_send() {
	printf '%s\n' "$2" >&"${bg_fd[$1]}"
}

bg_stop() {
	local name=$1 fd=${bg_fd[$1]:-}
	[ -n "$fd" ] || return 0
	exec {fd}>&-
	unset "bg_fd[$name]"
	pgsql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = '$name'" >/dev/null 2>&1 || true
	kill "${bg_pid[$name]}" 2>/dev/null || true
	wait "${bg_pid[$name]}" 2>/dev/null || true
}

# wait_sql SQL MESSAGE: poll until SQL returns t (10 s at most), or die.
wait_sql() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(pgsql -c "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	die "timed out waiting for: $2"
}

# ---- a clock moved forward -----------------------------------------------------
# faketime_clock FILE: FILE holds a clock offset (+0 to begin with) that a
# process started with `faked FILE CMD...` reads at every call (Debian's
# libfaketime, LD_PRELOAD); the monotonic clock is left alone.  Write
# "+SECONDS" to it with set_clock to move that process's clock.
faketime_clock() {
	local f
	faketime_lib=
	for f in /usr/lib/*/faketime/libfaketimeMT.so.1; do
		[ -e "$f" ] && faketime_lib=$f
	done
	[ -n "$faketime_lib" ] || die "libfaketime is not installed (apt-get install libfaketime)"
	set_clock "$1" 0
}
# set_clock FILE SECONDS: the offset replaced whole (a new file renamed over
# it), never truncated first: a process reading it then would see no offset
# and its clock would fall back to the real one for that call.
set_clock() {
	echo "+$2" >"$1.new"
	chmod 644 "$1.new"
	mv -f "$1.new" "$1"
}
faked() { # FILE CMD...
	local clock=$1
	shift
	LD_PRELOAD=$faketime_lib FAKETIME_TIMESTAMP_FILE=$clock FAKETIME_NO_CACHE=1 \
		FAKETIME_DONT_FAKE_MONOTONIC=1 "$@"
}

# ---- the fixture's server with its clock moved (packs_defaults*) ---------------
# faked_server_setup: the fixture's server restarted under libfaketime, its
# offset in $clock; $t0 is its clock when it started.  move_clock SECONDS sets
# the clock that far past $t0; next_xid XID restarts it with XID the next
# transaction ID (pg_resetwal, the commit log given the segment it then needs:
# zeros, those transactions never ran); findings lists the warning and
# critical checks with a finding in $out/status.csv, on one line.
faked_server_setup() {
	clock=$PGH_FIXTURE_DIR/clock
	faketime_clock "$clock"
	"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
	start_faked
	t0=$(q "SELECT extract(epoch FROM now())::int")
}
start_faked() {
	faked "$clock" "$PGH_FIXTURE" startserver "$PGH_FIXTURE_DIR" >/dev/null ||
		die "start under libfaketime failed"
}
move_clock() { # SECONDS
	set_clock "$clock" "$1"
	wait_sql "SELECT now() > to_timestamp($t0 + $1)" "the server's clock $1 s ahead"
}
next_xid() { # XID
	"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
	slru_segment "pg_xact/$(printf '%04X' $(($1 / 1048576)))"
	"$PGH_FIXTURE" tool "$PGH_FIXTURE_DIR" pg_resetwal -x "$1" >/dev/null || die "pg_resetwal -x $1 failed"
	start_faked
}
# slru_segment PATH: the data directory's PATH a whole segment of 32 pages,
# zeros where it had none.
slru_segment() {
	local seg=$PGH_FIXTURE_DIR/data/$1
	if [ ! -e "$seg" ]; then
		touch "$seg"
		chown "$(stat -c %U "$PGH_FIXTURE_DIR/data")" "$seg"
	fi
	[ "$(stat -c %s "$seg")" -ge 262144 ] || truncate -s 262144 "$seg"
}
findings() {
	status_sql "$out" "SELECT \"check\" FROM status WHERE state = 'findings' AND severity <> 'info' ORDER BY 1" |
		tr '\n' ' ' | sed 's/ $//'
}

# bg_many PREFIX N SQL [CONDITION]: sessions PREFIX1 .. PREFIXN (those not
# started yet) send SQL; waits until N of them are in pg_stat_activity
# (where CONDITION holds).
bg_many() {
	local i
	for ((i = 1; i <= $2; i++)); do
		[ -n "${bg_fd[$1$i]:-}" ] && continue
		bg_start "$1$i"
		bg_send "$1$i" "$3"
	done
	wait_sql "SELECT count(*) = $2 FROM pg_stat_activity
		WHERE application_name ~ '^$1[0-9]+$' AND ${4:-true}" "$2 sessions $1N"
}

# ---- check packs -------------------------------------------------------------
# pack_config FILE ROLE DBNAME OUTDIR [SESSION_SQL...]: a configuration that
# includes the pack $pack as shipped, connecting as ROLE to DBNAME on the
# fixture's server, with extra session_sql lines (lowered thresholds).
# $pack_databases and $pack_exclude, when set, are its databases and
# exclude_databases.
pack_config() {
	local f=$1 role=$2 db=$3 out=$4 s
	local -a extra=()
	shift 4
	for s in "$@"; do
		extra+=("session_sql=$s")
	done
	mkdir -p "$out"
	# shellcheck disable=SC2154 # $pack: set by the test script
	new_config "$f" "$out" "conninfo=host='$PGHOST' port=$PGPORT dbname=$db user=$role" \
		"session_sql=SET lock_timeout = '1s'" "${extra[@]}" \
		"databases=${pack_databases:-}" "exclude_databases=${pack_exclude:-}" \
		max_connections=3 history=0 "include=$pack"
}

# ---- the Redshift fixture ----------------------------------------------------
# rs_fixture_load DB [HOME_DB]: DB, made, with tests/data/redshift/fixture.sql
# loaded; HOME_DB (default DB) is the database the sample sessions, loads and
# tables belong to (a second database of the modelled cluster names the
# first).
rs_fixture_load() {
	pgsql -c "CREATE DATABASE $1" >/dev/null || die "CREATE DATABASE $1 failed"
	# shellcheck disable=SC2154 # $here: set by lib.sh
	PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d "$1" \
		-v home_db="${2:-$1}" -f "$here/data/redshift/fixture.sql" >/dev/null ||
		die "loading the Redshift fixture into $1 failed"
}

# rs_round NAME PACK ROLE EXIT [KEY=VALUE...]: one `pghealthd once` of
# conf/checks/PACK.ini as ROLE against the fixture databases $rs_dbs (the
# first one holds the conninfo; scope = database checks run in all of them),
# output in $work/NAME/out; $work/NAME/status.txt holds "check|state|error"
# lines.
rs_round() {
	local name=$1 pack=$2 role=$3 rc=$4 dir=$work/$1
	shift 4
	mkdir -p "$dir/out"
	# shellcheck disable=SC2154 # $rs_dbs: set by the test script
	new_config "$dir/pghealthd.ini" "$dir/out" \
		"conninfo=host='$PGHOST' port=$PGPORT dbname=${rs_dbs%% *} user=$role" \
		"session_sql=SET search_path = redshift_fixture, public" "databases=$rs_dbs" \
		history=0 "include=$root/conf/checks/$pack.ini" "$@"
	run_once "$dir/pghealthd.ini" "$rc" "$name: one round of $pack as $role"
	status_sql "$dir/out" "SELECT \"check\", state, replace(coalesce(error, ''), E'\n', ' ')
		FROM status ORDER BY 1" >"$dir/status.txt" || {
		fail "$name: status.csv loads with COPY"
		: >"$dir/status.txt"
	}
}

# The checks of round NAME with findings, sorted, on one line.
rs_findings() { # NAME
	awk -F'|' '$2 == "findings" { print $1 }' "$work/$1/status.txt" | sort | tr '\n' ' '
}

# The checks of round NAME that ended neither ok nor findings, with the error.
rs_failed() { # NAME
	awk -F'|' '$2 != "ok" && $2 != "findings" { print $1 " (" $2 "): " $3 }' "$work/$1/status.txt"
}

# ---- the PostgreSQL pack at its defaults --------------------------------------
# pg_pack_setup: $pack, the PostgreSQL pack; $out; $conf, the pack as shipped
# for the fixture's server.
pg_pack_setup() {
	# shellcheck disable=SC2154 # $root, $work: set by lib.sh
	pack=$root/conf/checks/postgresql.ini
	out=$work/out
	conf=$work/pack.ini
	pack_config "$conf" "$PGUSER" "$PGDATABASE" "$out"
}

# pack_state CHECK: its state in $out/status.csv.
pack_state() {
	status_sql "$out" "SELECT state FROM status WHERE \"check\" = '$1'"
}

# pack_column CHECK COLUMN: the value in its CSV's first row (for columns
# without quoted commas).
pack_column() {
	awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
		NR == 2 && k { print $k }' "$out/$1.csv" 2>/dev/null
}
