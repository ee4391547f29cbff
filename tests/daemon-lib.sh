# shellcheck shell=bash
# The daemon and fixture helpers of the test library: a cleanup trap for
# what a test starts (daemons, helpers, frozen backends, mounts, poolers,
# background psql sessions), the daemon's configuration, waits, probes,
# status.csv snapshots, a pg_stat_activity sampler, pgbouncer, and the check
# packs' configuration.  Loaded by test_setup (lib.sh); not sourced alone.
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317

pgh_lib_files+=("${BASH_SOURCE[0]}")
clk_tck=$(getconf CLK_TCK)

# ---- cleanup: only what this script started ------------------------------
started_pids=()  # daemons and background helpers
frozen_pids=()   # server backends stopped with SIGSTOP
mounts=()
bouncer_dirs=()  # pgbouncer fixtures
fixture_dirs=()  # other PostgreSQL fixtures (a standby)
declare -gA bg_pid=() bg_fd=() # background psql sessions (bg_start)

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p m name
	set +e
	for name in "${!bg_fd[@]}"; do
		bg_stop "$name"
	done
	for p in "${frozen_pids[@]}"; do
		kill -CONT "$p" 2>/dev/null
	done
	for p in "${started_pids[@]}"; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	for p in "${bouncer_dirs[@]}"; do
		bouncer_stop "$p"
	done
	for p in "${fixture_dirs[@]}"; do
		"$PGH_FIXTURE" stop "$p" >/dev/null 2>&1
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

# mount_tmpfs DIR OPTIONS [SOURCE]: a tmpfs on DIR (made), unmounted on exit.
mount_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "$2" "${3:-tmpfs}" "$1" || die "mount tmpfs on $1 failed"
	mounts+=("$1")
}

# ---- helpers --------------------------------------------------------------

# write_config FILE OUTDIR INTERVAL MAX_CONN [KEY=VALUE...]: a daemon's
# configuration (new_config): application_name = pghealthd, min_connections
# = 1, history = 0, unless a KEY=VALUE says otherwise.
write_config() {
	new_config "$1" "$2" application_name=pghealthd min_connections=1 \
		max_connections="$4" interval="$3" history=0 "${@:5}"
}

# scenario NAME: a scenario's label $t, its directory $d (made), and $conf
# and $log there.
scenario() {
	t=$1
	# shellcheck disable=SC2154 # $work: set by test_setup
	d=$work/$t
	mkdir -p "$d"
	conf=$d/pghealthd.ini
	log=$d/daemon.log
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

# expect_within MS MESSAGE FAILURE COMMAND...: ok MESSAGE when COMMAND
# succeeds within MS milliseconds (scaled by $PGH_SLOW), else fail FAILURE
# and show $log (when there is one); returns whether it did.  waited_ms: how
# long it took.
expect_within() {
	local good=$2 bad=$3 bound
	bound=$(slow_ms "$1")
	shift 3
	if wait_for "$bound" "$@"; then
		ok "$good"
	else
		fail "$bad"
		[ ! -f "${log:-}" ] || show_log "$log"
		return 1
	fi
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

# Start the daemon on $conf (log $log) and wait up to 5 s (scaled) for a
# round in which every CHECK has findings; sets dpid.
first_round() { # OUTDIR CHECK...
	local t0
	start_daemon "$conf" "$log"
	t0=$(now_ms)
	wait_for "$(slow_ms 5000)" status_all "$1" findings "$t0" "${@:2}" || fail "$t: no first round"
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
# bouncer_conninfo.  Extra lines go to its [pgbouncer] section.  Every
# database is made on demand (`* =`), or, with $bouncer_db set, that one is
# declared, so that it stays while nobody uses it.
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
		echo "${bouncer_db:-*} = host=$PGHOST port=$PGPORT"
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

# timed_once LIMIT_S CONF: `pghealthd -c CONF once` without the wrapper,
# killed after LIMIT_S seconds; stdout and stderr to CONF.stdout and
# CONF.stderr.  Sets rc and wall (ms).
timed_once() {
	local t0
	t0=$(now_ms)
	rc=0
	timeout -k 2 "$1" "$PGHEALTHD" -c "$2" once >"$2.stdout" 2>"$2.stderr" || rc=$?
	# shellcheck disable=SC2034 # read by the test scripts
	wall=$(($(now_ms) - t0))
}

# ---- an in-server sampler of pg_stat_activity -------------------------------
# One session re-reads pg_stat_activity every 20 ms and returns, per sample,
# the time (epoch ms), the number of sessions named APP and how many of them
# run a query LIKE PATTERN, until a row with its TAG appears in sampler_stop
# (or MAX_SECONDS pass).  Sampling costs no process starts.
sampler_setup() {
	pgsql >/dev/null <<'SQL' || die "sampler setup failed"
CREATE TABLE IF NOT EXISTS sampler_stop (tag text);
CREATE OR REPLACE FUNCTION pgh_sample(p_tag text, max_seconds float8, app text, pattern text)
RETURNS TABLE (t_ms bigint, n_sessions int, n_matching int)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint, count(*),
               count(*) FILTER (WHERE a.state = 'active' AND a.query LIKE pattern)
          INTO t_ms, n_sessions, n_matching
          FROM pg_stat_activity a WHERE a.application_name = app;
        RETURN NEXT;
        EXIT WHEN EXISTS (SELECT 1 FROM sampler_stop s WHERE s.tag = p_tag)
            OR clock_timestamp() - t0 > make_interval(secs => max_seconds);
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;
SQL
}

sampler_running() { # TAG
	[ "$(q "SELECT count(*) FROM pg_stat_activity
		WHERE query LIKE '%pgh_sample(''$1''%' AND pid <> pg_backend_pid()")" = 1 ]
}

# sampler_start TAG MAX_SECONDS APP PATTERN OUTFILE: start it, wait until it
# runs; sets sampler_pid.
sampler_start() {
	[ -n "${pgh_sampler_ready:-}" ] || sampler_setup
	pgh_sampler_ready=1
	pgsql -F' ' -c "SELECT * FROM pgh_sample('$1', $2, '$3', '$4')" >"$5" 2>&1 &
	sampler_pid=$!
	started_pids+=("$sampler_pid")
	wait_for 5000 sampler_running "$1" || die "sampler $1 did not start: $(cat "$5")"
}

sampler_stop() { # TAG OUTFILE
	pgsql -c "INSERT INTO sampler_stop VALUES ('$1')" || fail "could not stop sampler $1"
	wait "$sampler_pid" || fail "sampler $1 failed: $(head -c 300 "$2")"
}

# Maximum of column N (2 sessions, 3 matching) of a sampler's output.
sample_max() { # FILE N
	awk -v n="$2" 'BEGIN { m = 0 } NF == 3 && $n > m { m = $n } END { print m }' "$1"
}

# The pack tests' helpers: background sessions, pack configurations, the
# Redshift fixture.
# shellcheck source=tests/packs-lib.sh
. "$here/packs-lib.sh"
