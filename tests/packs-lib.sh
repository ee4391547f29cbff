# shellcheck shell=bash
# Helpers for the check-pack tests: background sessions, a wait on SQL, and
# the pack configuration.  Source after lib.sh, with $work set to a scratch
# directory and $pack to the pack's .ini file.

# pack_config FILE ROLE DBNAME OUTDIR [SESSION_SQL...]: a configuration that
# includes the pack as shipped, connecting as ROLE to DBNAME on the fixture's
# server, with extra session_sql lines (lowered thresholds).  $pack_databases
# and $pack_exclude, when set, are its databases and exclude_databases.
pack_config() {
	local f=$1 role=$2 db=$3 out=$4 s
	shift 4
	mkdir -p "$out"
	{
		cat <<EOF
[target]
conninfo = host='$PGHOST' port=$PGPORT dbname=$db user=$role
timezone = UTC
session_sql = SET lock_timeout = '1s'
EOF
		[ -z "${pack_databases:-}" ] || echo "databases = $pack_databases"
		[ -z "${pack_exclude:-}" ] || echo "exclude_databases = $pack_exclude"
		for s in "$@"; do
			echo "session_sql = $s"
		done
		cat <<EOF

[pool]
max_connections = 3

[run]
output_dir = $out
fsync = false
history = 0
include = $pack
EOF
	} >"$f"
}

# ---- background sessions ---------------------------------------------------
# bg_start NAME [CONNINFO]: a psql session (application_name NAME) that reads
# SQL from a fifo, so it can sit idle inside a transaction for as long as the
# test wants; bg_send NAME SQL; every session is terminated on exit.  Needs
# $work.
declare -A bg_pid bg_fd
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

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local name
	for name in "${!bg_fd[@]}"; do
		bg_stop "$name"
	done
}
trap cleanup EXIT

# wait_for SQL MESSAGE: poll until SQL returns t (10 s at most).
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(pgsql -c "$1" 2>/dev/null)" = t ] && return 0
		sleep 0.1
	done
	die "timed out waiting for: $2"
}
