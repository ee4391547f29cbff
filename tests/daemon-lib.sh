# shellcheck shell=bash
# Helpers for the tests that run the daemon against the fixture's server:
# a cleanup trap for what a test starts (daemons, frozen backends, mounts,
# poolers), a config writer, waits, probes and status.csv snapshots.
# Source it after lib.sh and require_env:
#
#   . "$here/lib.sh"; require_env; . "$here/daemon-lib.sh"
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317

clk_tck=$(getconf CLK_TCK)

# ---- cleanup: only what this script started ------------------------------
started_pids=()  # daemons and background helpers
frozen_pids=()   # server backends stopped with SIGSTOP
mounts=()
bouncer_dirs=()  # pgbouncer fixtures

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p m
	set +e
	for p in "${frozen_pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
	done
	for p in "${started_pids[@]}"; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	for p in "${bouncer_dirs[@]}"; do
		bouncer_stop "$p"
	done
	for m in "${mounts[@]}"; do
		if mountpoint -q "$m"; then
			umount "$m" 2>/dev/null || umount -l "$m"
		fi
	done
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# ---- helpers --------------------------------------------------------------

conninfo_default="host='$PGHOST' port=$PGPORT dbname=$PGDATABASE user=$PGUSER"

# write_config FILE OUTDIR INTERVAL MAX_CONN [MIN_CONN [APP [CONNINFO]]]
write_config() {
	cat >"$1" <<EOF
[target]
conninfo = ${7:-$conninfo_default}
application_name = ${6:-pghealthd}
timezone = UTC

[pool]
min_connections = ${5:-1}
max_connections = $4

[run]
output_dir = $2
interval = $3
fsync = false
history = 0
EOF
}

# add_check FILE NAME SQL [KEY=VALUE LINE...]
add_check() {
	local f=$1 name=$2 sql=$3
	shift 3
	{
		printf '\n[check:%s]\n' "$name"
		ini_value sql "$sql"
		for l in "$@"; do
			echo "$l"
		done
	} >>"$f"
}

# wait_for TIMEOUT_MS COMMAND...: run COMMAND every 50 ms until it succeeds;
# 1 when the time is up.  waited_ms: how long it took.
wait_for() {
	local limit=$1 t0 now
	shift
	t0=$(now_ms)
	while :; do
		if "$@"; then
			now=$(now_ms)
			waited_ms=$((now - t0))
			return 0
		fi
		now=$(now_ms)
		if [ $((now - t0)) -ge "$limit" ]; then
			waited_ms=$((now - t0))
			return 1
		fi
		sleep 0.05
	done
}

alive() { kill -0 "$1" 2>/dev/null; }
not_alive() { ! kill -0 "$1" 2>/dev/null; }

log_has() { grep -qF -- "$2" "$1" 2>/dev/null; }

# Epoch ms of the first log line of LOG containing TEXT ("" if none).  Log
# lines start with the local time "YYYY-mm-dd HH:MM:SS.mmm".
log_time_ms() { # LOG TEXT
	local line
	line=$(grep -F -m 1 -- "$2" "$1" 2>/dev/null) || return 0
	date -d "${line:0:23}" +%s%3N 2>/dev/null || true
}

# SQL probe, one value.
q() { pgsql -c "$1" 2>/dev/null; }

# Number of sessions with application_name APP.
sessions() { # APP
	q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'"
}

# status.csv of OUTDIR as lines check|state|rows|started_at_epoch_ms|error
# into the variable snap ("" when it cannot be read).
snapshot() { # OUTDIR
	snap=$(status_sql "$1" "SELECT \"check\", state, rows,
			(extract(epoch FROM started_at::timestamptz) * 1000)::bigint,
			replace(coalesce(error, ''), E'\n', ' ')
			FROM status ORDER BY 1" 2>/dev/null) || snap=""
}
# The same without the server (while it is down): the first seven fields of
# status.csv never need quotes; the rest of the line is the error.
snapshot_offline() { # OUTDIR
	local c st rows start err ms
	snap=""
	[ -f "$1/status.csv" ] || return 0
	while IFS='|' read -r c st rows start err; do
		ms=$(date -d "$start" +%s%3N 2>/dev/null) || ms=""
		snap+="$c|$st|$rows|$ms|$err"$'\n'
	done < <(awk 'NR > 1 {
		rest = $0
		for (i = 1; i <= 7; i++) {
			p = index(rest, ","); f[i] = substr(rest, 1, p - 1); rest = substr(rest, p + 1)
		}
		if (rest ~ /^".*"$/) { rest = substr(rest, 2, length(rest) - 2); gsub(/""/, "\"", rest) }
		print f[1] "|" f[3] "|" f[4] "|" f[6] "|" rest
	}' "$1/status.csv")
	snap=${snap%$'\n'}
}
snap_with=snapshot

# Field N (1 check, 2 state, 3 rows, 4 started_ms, 5 error) of CHECK in $snap.
snap_get() { # CHECK N
	awk -F'|' -v c="$1" -v n="$2" '$1 == c { print $n }' <<<"$snap"
}

# True when status.csv of OUTDIR has, for every CHECK, state STATE and a
# started_at after AFTER_MS (epoch ms).
status_all() { # OUTDIR STATE AFTER_MS CHECK...
	local out=$1 state=$2 after=$3 c t
	shift 3
	"$snap_with" "$out"
	[ -n "$snap" ] || return 1
	for c in "$@"; do
		[ "$(snap_get "$c" 2)" = "$state" ] || return 1
		t=$(snap_get "$c" 4)
		[ -n "$t" ] && [ "$t" -gt "$after" ] || return 1
	done
}

# utime + stime of PID in ms.
cpu_ms() { # PID
	local s
	s=$(cat "/proc/$1/stat") || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # split the fields
	set -- $s
	echo $(((${12} + ${13}) * 1000 / clk_tck))
}

# Start the daemon: pghealthd -c CONF run, log in LOG; sets dpid.
start_daemon() { # CONF LOG
	pgh_bg "$2" -c "$1" run
	dpid=$pgh_pid
	started_pids+=("$dpid")
}

# SIGTERM the daemon PID; it must exit 0 within BOUND_MS (scaled).  Sets
# exit_ms (time from the signal to the exit).
stop_daemon() { # PID BOUND_MS LABEL LOG
	local pid=$1 bound t0 rc=0
	bound=$(slow_ms "$2")
	t0=$(now_ms)
	kill -TERM "$pid" 2>/dev/null || true
	if wait_for "$bound" not_alive "$pid"; then
		exit_ms=$waited_ms
		wait "$pid" || rc=$?
		assert_eq 0 "$rc" "$3: SIGTERM -> exit 0"
		[ "$rc" -eq 0 ] || tail -n 20 "$4" | sed 's/^/#   /'
		ok "$3: exited ${exit_ms} ms after SIGTERM (bound ${bound} ms)"
	else
		exit_ms=$(($(now_ms) - t0))
		fail "$3: still running ${exit_ms} ms after SIGTERM (bound ${bound} ms)"
		tail -n 20 "$4" | sed 's/^/#   /'
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

show_log() { # LOG [LINES]
	echo "#   ---- $(basename "$1") (last ${2:-15} lines) ----"
	tail -n "${2:-15}" "$1" | sed 's/^/#   /'
}

# A TCP port on 127.0.0.1 that nothing listens on (connections are refused).
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
		: "$i"
	done
	die "no refused TCP port found"
}

# ---- pgbouncer: Debian's package in front of the fixture's server ---------

# The OS user the fixture's server runs as (pgbouncer refuses to run as root).
bouncer_user() {
	if [ "$(id -u)" -eq 0 ]; then echo "${PGH_PG_OS_USER:-postgres}"; else id -un; fi
}

# bouncer_start DIR MODE POOL_SIZE [INI_LINE...]: start pgbouncer (pool_mode
# MODE, default_pool_size POOL_SIZE, trust authentication) listening on a free
# port of 127.0.0.1 and a unix socket in DIR; sets bouncer_port and
# bouncer_conninfo.  Extra lines go to its [pgbouncer] section.
bouncer_start() {
	local dir=$1 mode=$2 size=$3 user i
	shift 3
	command -v pgbouncer >/dev/null 2>&1 || die "pgbouncer not found (package pgbouncer)"
	user=$(bouncer_user)
	mkdir -p "$dir"
	bouncer_port=$(free_port)
	printf '"%s" ""\n' "$PGUSER" >"$dir/users.txt"
	{
		echo '[databases]'
		echo "* = host=$PGHOST port=$PGPORT"
		echo '[pgbouncer]'
		echo "listen_addr = 127.0.0.1"
		echo "listen_port = $bouncer_port"
		echo "unix_socket_dir = $dir"
		echo "auth_type = trust"
		echo "auth_file = $dir/users.txt"
		echo "pool_mode = $mode"
		echo "default_pool_size = $size"
		echo "max_client_conn = 200"
		echo "logfile = $dir/pgbouncer.log"
		echo "pidfile = $dir/pgbouncer.pid"
		echo "admin_users = $PGUSER"
		printf '%s\n' "$@"
	} >"$dir/pgbouncer.ini"
	chown -R "$user" "$dir" 2>/dev/null || true
	bouncer_dirs+=("$dir")
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$user" -- pgbouncer -d -q "$dir/pgbouncer.ini" || die "pgbouncer did not start"
	else
		pgbouncer -d -q "$dir/pgbouncer.ini" || die "pgbouncer did not start"
	fi
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$bouncer_port") 2>/dev/null; then
			bouncer_conninfo="host=127.0.0.1 port=$bouncer_port dbname=$PGDATABASE user=$PGUSER"
			return 0
		fi
		: "$i"
		sleep 0.05
	done
	cat "$dir/pgbouncer.log" >&2
	die "pgbouncer in $dir does not listen on $bouncer_port"
}

bouncer_stop() { # DIR
	local pid
	pid=$(cat "$1/pgbouncer.pid" 2>/dev/null) || return 0
	kill -INT "$pid" 2>/dev/null || return 0
	wait_for 5000 not_alive "$pid" || kill -KILL "$pid" 2>/dev/null
	rm -f "$1/pgbouncer.pid"
}

# psql through the pgbouncer of bouncer_start (no PGOPTIONS: pgbouncer
# refuses the startup parameter).
bouncer_sql() {
	PGHOST=127.0.0.1 PGPORT=$bouncer_port PGCLIENTENCODING=UTF8 \
		psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}
