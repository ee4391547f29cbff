#!/bin/bash
# A throwaway PostgreSQL cluster for the integration tests.
#
#   pgfixture.sh start DIR         initdb (or copy a cached template) into
#                                  DIR/data, start it, print the connection
#                                  variables as shell-evalable export lines
#   pgfixture.sh stop DIR          stop it for good (immediate); idempotent
#   pgfixture.sh restart DIR       pg_ctl restart (fast), same port
#   pgfixture.sh stopserver DIR [fast|immediate|smart]
#                                  stop, keeping the data (fault tests)
#   pgfixture.sh startserver DIR   start again after stopserver, same port
#   pgfixture.sh env DIR           print the export lines again
#   pgfixture.sh status DIR        exit 0 if the server is running
#   pgfixture.sh tool DIR PROGRAM [ARGS...]
#                                  run a server program (pg_resetwal, ...)
#                                  as the cluster's owner, with -D DIR/data
#                                  first
#   pgfixture.sh standby DIR PRIMARY_DIR
#                                  a streaming standby of the fixture in
#                                  PRIMARY_DIR (pg_basebackup -R), started
#                                  on a port of its own; prints the export
#                                  lines as start does
#
# The unix socket lives in DIR, the server also listens on 127.0.0.1 on a
# free TCP port, it logs to DIR/server.log.  Run as root, the cluster belongs
# to and runs as the "postgres" user (PGH_PG_OS_USER overrides that).
#
# Environment knobs:
#   PGH_PG_BINDIR       server binaries (default: the newest
#                       /usr/lib/postgresql/*/bin, then pg_config --bindir,
#                       then PATH)
#   PGH_PG_TEMPLATE     directory caching an initdb result, so later starts
#                       copy it instead of running initdb (default:
#                       ${TMPDIR:-/tmp}/pghealthd-initdb-template-VERSION-USER);
#                       "none" disables the cache
set -eu

me=pgfixture

die() {
	echo "$me: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 start|stop|restart|stopserver|startserver|tool|standby|env|status DIR" >&2
	exit 64
}

find_bindir() {
	local d best=""
	if [ -n "${PGH_PG_BINDIR:-}" ]; then
		[ -x "$PGH_PG_BINDIR/initdb" ] || die "PGH_PG_BINDIR=$PGH_PG_BINDIR has no initdb"
		echo "$PGH_PG_BINDIR"
		return
	fi
	# The newest major version installed the Debian way.
	while IFS= read -r d; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
	done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
	if [ -z "$best" ] && command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		[ -n "$d" ] && [ -x "$d/initdb" ] && best=$d
	fi
	if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
		best=$(dirname "$(command -v initdb)")
	fi
	[ -n "$best" ] || die "no PostgreSQL server binaries (initdb) found; install the postgresql package"
	echo "$best"
}

# Run a command as the user owning the cluster.
as_owner() {
	if [ -z "$run_as" ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$run_as" -- "$@"
	else
		# shellcheck disable=SC2016 # expanded by the inner shell
		su -s /bin/sh -c 'exec "$0" "$@"' "$run_as" -- "$@"
	fi
}

# Single-quote a value for the shell.
shquote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

print_env() {
	local port
	port=$(cat "$dir/port")
	echo "export PGHOST=$(shquote "$dir")"
	echo "export PGPORT=$port"
	echo "export PGUSER=postgres"
	echo "export PGDATABASE=postgres"
}

show_log() {
	if [ -s "$dir/server.log" ]; then
		echo "$me: ---- $dir/server.log (last 60 lines) ----" >&2
		tail -n 60 "$dir/server.log" >&2
		echo "$me: ---- end of server log ----" >&2
	fi
}

port_in_use() {
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# A port outside Linux's default ephemeral range (32768-60999), not listened on.
pick_port() {
	local i p
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))
		port_in_use "$p" || {
			echo "$p"
			return
		}
		: "$i"
	done
	die "no free TCP port found"
}

# Make DIR reachable for the server user: DIR itself 0755, and every parent
# directory searchable.
make_reachable() {
	local p
	chmod 0755 "$dir"
	[ -n "$run_as" ] || return 0
	as_owner test -x "$dir" && return 0
	p=$dir
	while [ "$p" != "/" ]; do
		p=$(dirname "$p")
		as_owner test -x "$p" || chmod a+x "$p"
	done
	as_owner test -x "$dir" || die "$dir is not reachable by user $run_as"
}

template_path() {
	local ver
	if [ "${PGH_PG_TEMPLATE:-}" = none ]; then
		return
	fi
	if [ -n "${PGH_PG_TEMPLATE:-}" ]; then
		echo "$PGH_PG_TEMPLATE"
		return
	fi
	ver=$("$bindir/postgres" -V | awk '{print $3}')
	echo "${TMPDIR:-/tmp}/pghealthd-initdb-template-$ver-$owner"
}

# A cache directory is trusted only if this user owns it and nobody else can
# write to it; its data/ must belong to the cluster owner.
template_usable() {
	local t=$1
	[ -d "$t" ] && [ -f "$t/data/PG_VERSION" ] || return 1
	[ "$(stat -c %u "$t")" = "$(id -u)" ] || return 1
	case "$(stat -c %A "$t")" in
	?????w???? | ????????w?) return 1 ;;
	esac
	[ "$(stat -c %U "$t/data")" = "$owner" ] || return 1
}

run_initdb() {
	local loc=C.UTF-8
	if ! locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$'; then
		loc=C
	fi
	if ! as_owner "$bindir/initdb" --nosync --auth=trust -U postgres \
		-E UTF8 --locale="$loc" -D "$dir/data" >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	fi
}

# Save DIR/data (fresh from initdb, never started) as the template.
save_template() {
	local t=$1 tmp
	[ -n "$t" ] || return 0
	mkdir -p "$(dirname "$t")" 2>/dev/null || return 0
	tmp=$(mktemp -d "$t.XXXXXX" 2>/dev/null) || return 0
	chmod 0755 "$tmp"
	if cp -a "$dir/data" "$tmp/data" && mv -T "$tmp" "$t" 2>/dev/null; then
		return 0
	fi
	rm -rf "$tmp"	# another fixture won the race, or the copy failed
}

create_cluster() {
	local t
	t=$(template_path)
	if [ -n "$t" ] && template_usable "$t" && cp -a "$t/data" "$dir/data"; then
		:
	else
		rm -rf "$dir/data"
		run_initdb
		save_template "$t"
	fi
}

# Settings of this instance, appended after initdb's: later lines win.
write_conf() {
	local port=$1
	cat >>"$dir/data/postgresql.conf" <<EOF

# ---- pghealthd test fixture ----
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 100
max_prepared_transactions = 10
shared_buffers = 16MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 256MB
logging_collector = off
log_line_prefix = '%m [%p] %q%a '
log_connections = off
log_timezone = 'UTC'
# Deliberately not UTC: tests prove that pghealthd sets the session TimeZone.
timezone = 'Asia/Kolkata'
EOF
}

pg_running() {
	[ -f "$dir/data/postmaster.pid" ] &&
		as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# Start the server; on a TCP port clash pick another port and retry.
start_server() {
	local try
	for try in 1 2 3 4 5; do
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
			-w -t 60 start >"$dir/pg_ctl.log" 2>&1; then
			return 0
		fi
		if [ "${1:-}" = retry-port ] &&
			grep -q 'could not bind\|Address already in use' "$dir/server.log" 2>/dev/null; then
			echo "$me: port $(cat "$dir/port") taken, trying another ($try)" >&2
			pick_port >"$dir/port"
			write_conf "$(cat "$dir/port")"
			continue
		fi
		break
	done
	cat "$dir/pg_ctl.log" >&2
	show_log
	die "server failed to start in $dir"
}

# A new instance's directory, made, owned by the cluster's user and the cwd
# (initdb, pg_basebackup and the server need a cwd they can read).
enter_new_dir() {
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	if [ -n "$run_as" ]; then
		chown "$run_as:" "$dir"
	fi
	make_reachable
	cd "$dir"
}

cmd_start() {
	[ ! -e "$dir/data" ] || die "$dir/data already exists (stop and remove it first)"
	enter_new_dir
	create_cluster
	pick_port >"$dir/port"
	write_conf "$(cat "$dir/port")"
	start_server retry-port
	print_env
}

cmd_standby() {
	local primary=$1
	[ -f "$primary/port" ] || die "no fixture in $primary"
	enter_new_dir
	if ! as_owner "$bindir/pg_basebackup" -h "$primary" -p "$(cat "$primary/port")" -U postgres \
		-D "$dir/data" -R -X stream -c fast >"$dir/basebackup.log" 2>&1; then
		cat "$dir/basebackup.log" >&2
		die "pg_basebackup from $primary failed"
	fi
	# The primary's settings came with the copy: its port and socket
	# directory are overridden by this instance's (later lines win).
	pick_port >"$dir/port"
	write_conf "$(cat "$dir/port")"
	start_server
	print_env
}

cmd_stop() {
	[ -d "$dir/data" ] || return 0
	[ -f "$dir/data/postmaster.pid" ] || return 0
	cd "$dir"
	local mode=${1:-immediate}
	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1; then
		if pg_running; then
			as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >&2 ||
				die "could not stop the server in $dir"
		fi
	fi
}

cmd_startserver() {
	[ -f "$dir/data/PG_VERSION" ] || die "no cluster in $dir (use start)"
	cd "$dir"
	if ! pg_running; then
		start_server
	fi
	print_env
}

cmd_restart() {
	[ -f "$dir/data/PG_VERSION" ] || die "no cluster in $dir (use start)"
	cd "$dir"
	if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-m fast -w -t 60 restart >"$dir/pg_ctl.log" 2>&1; then
		cat "$dir/pg_ctl.log" >&2
		show_log
		die "restart failed in $dir"
	fi
	print_env
}

[ $# -ge 2 ] || usage
action=$1
dir=$2
shift 2
case "$dir" in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac

bindir=$(find_bindir)
run_as=""
owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	run_as=${PGH_PG_OS_USER:-postgres}
	id "$run_as" >/dev/null 2>&1 || die "user $run_as does not exist (install the postgresql package)"
	owner=$run_as
fi

case "$action" in
start) cmd_start ;;
stop) cmd_stop immediate ;;
stopserver)
	[ -f "$dir/data/PG_VERSION" ] || die "no cluster in $dir"
	case "${1:-fast}" in
	fast | immediate | smart) cmd_stop "${1:-fast}" ;;
	*) usage ;;
	esac
	;;
startserver) cmd_startserver ;;
standby)
	[ $# -ge 1 ] || usage
	cmd_standby "$1"
	;;
restart) cmd_restart ;;
tool)
	[ $# -ge 1 ] || usage
	[ -f "$dir/data/PG_VERSION" ] || die "no cluster in $dir"
	[ -x "$bindir/$1" ] || die "no $1 in $bindir"
	prog=$1
	shift
	as_owner "$bindir/$prog" -D "$dir/data" "$@"
	;;
env)
	[ -f "$dir/port" ] || die "no fixture in $dir"
	print_env
	;;
status)
	[ -d "$dir/data" ] || exit 1
	cd "$dir"
	pg_running
	;;
*) usage ;;
esac
