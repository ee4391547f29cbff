#!/usr/bin/env bash
# Secrets, against the real server with scram-sha-256: a role "mon" with a
# password, required over TCP (a pg_hba.conf line ahead of the fixture's
# trust lines).  The password reaches the server from password_file (an
# absolute path, or a name looked up in $CREDENTIALS_DIRECTORY first), from
# conninfo in a 0600 file (refused, exit 78, when the file is readable by
# others), or from a 0600 PGPASSFILE.  A wrong password is an error that says
# so (exit 3).  The password never shows in stdout, stderr (log_level =
# debug), the output directory (status.csv, check CSVs, the Prometheus
# file), check-config (a password in conninfo left out, and said so), exec's JSON,
# or /proc/PID/cmdline and environ of a running daemon.
#
# Run alone: meson test -C build secrets
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/secrets.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup secrets
umask 022

# A password no other text could contain by chance.
secret="pgh-S3cret-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"
wrong="pgh-Wr0ng-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"

# ---- the server: mon needs its password over TCP ----------------------------
pgsql -c "SET password_encryption = 'scram-sha-256'" \
	-c "CREATE ROLE mon LOGIN PASSWORD '$secret'" || die "cannot create role mon"
assert_eq t "$(pgsql -c "SELECT rolpassword LIKE 'SCRAM-SHA-256\$%' FROM pg_authid WHERE rolname = 'mon'")" \
	"mon's password is stored as a SCRAM verifier"
hba=$PGH_FIXTURE_DIR/data/pg_hba.conf
[ -f "$hba" ] || die "no pg_hba.conf at $hba"
# Rewritten in place (cat >), so the file keeps its owner and mode.
{
	echo "host all mon 127.0.0.1/32 scram-sha-256"
	cat "$hba"
} >"$work/pg_hba.conf"
cat "$work/pg_hba.conf" >"$hba"
pgsql -c "SELECT pg_reload_conf()" >/dev/null || die "pg_reload_conf failed"
# The reload is asynchronous: wait until mon without a password is refused.
refused=0
for _ in $(seq 1 100); do
	if ! PGPASSWORD='' psql -X -w -h 127.0.0.1 -p "$PGPORT" -U mon -d postgres -c 'SELECT 1' \
		>/dev/null 2>"$work/probe.err"; then
		refused=1
		break
	fi
	sleep 0.05
done
[ "$refused" -eq 1 ] || die "the server still lets mon in without a password"
assert_contains "$(cat "$work/probe.err")" "password" "the fixture now asks mon for a password"
assert_eq 1 "$(PGPASSWORD=$secret psql -X -w -h 127.0.0.1 -p "$PGPORT" -U mon -d postgres -At \
	-c 'SELECT 1')" "psql gets in as mon with the password"

ci_base="host=127.0.0.1 port=$PGPORT dbname=postgres user=mon connect_timeout=5"

# secret_config FILE OUTDIR [KEY=VALUE...]: a 0600 configuration (the
# KEY=VALUEs as for new_config; conninfo is line 2), log_level = debug, a
# Prometheus file, and one check: who.
secret_config() {
	local file=$1 outdir=$2
	shift 2
	new_config "$file" "$outdir" "$@" max_connections=2 interval=1s \
		prometheus_file=pghealthd.prom log_level=debug
	add_check "$file" who "SELECT current_user AS who, 'scram' AS how"
	chmod 0600 "$file"
}

# no_secret LABEL FILE...: none of the files holds either password.
no_secret() {
	local label=$1 f hits=""
	shift
	for f in "$@"; do
		[ -e "$f" ] || {
			fail "$label: $f does not exist"
			return
		}
		if grep -rqaF -e "$secret" -e "$wrong" "$f"; then
			hits="$hits $f"
		fi
	done
	if [ -z "$hits" ]; then
		ok "$label: no password in$(printf ' %s' "${@##*/}")"
	else
		fail "$label: the password appears in$hits"
	fi
}

# secret_exec SQL EXIT EXIT_MESSAGE TEXT TEXT_MESSAGE: exec SQL with
# $work/$t.ini exits EXIT, its JSON holds TEXT, and neither the JSON nor
# stderr holds a password.
secret_exec() {
	local rc=0
	pgh -c "$work/$t.ini" exec "$1" >"$work/$t.exec" 2>"$work/$t.exec.err" || rc=$?
	assert_eq "$2" "$rc" "$3"
	assert_contains "$(cat "$work/$t.exec")" "$4" "$5"
	no_secret "$t: exec" "$work/$t.exec" "$work/$t.exec.err"
}

# status_error OUTDIR CHECK: the error column of CHECK in status.csv.
status_error() {
	status_sql "$1" "SELECT coalesce(error, '') FROM status WHERE \"check\" = '$2'" || echo "(status.csv unreadable)"
}

# ---- password_file, absolute path -> exit 0 --------------------------------
t=abs
printf '%s\n' "$secret" >"$work/mon.pw"
chmod 0600 "$work/mon.pw"
secret_config "$work/$t.ini" "$work/$t-out" "conninfo=$ci_base" "password_file=$work/mon.pw"
run_once "$work/$t.ini" 0 "$t: password_file with an absolute path"
assert_eq mon,scram "$(sed -n 2p "$work/$t-out/who.csv")" "$t: the check ran as mon"
assert_file_exists "$work/$t-out/pghealthd.prom" "$t: the Prometheus file was written"
assert_contains "$(cat "$work/$t.ini.stderr")" "debug" "$t: stderr has debug lines (log_level = debug)"
no_secret "$t" "$work/$t.ini.stdout" "$work/$t.ini.stderr" "$work/$t-out"

# check-config never prints the password, whatever the source.
rc=0
pgh -c "$work/$t.ini" check-config >"$work/$t.check" 2>&1 || rc=$?
assert_eq 0 "$rc" "$t: check-config exits 0"
assert_contains "$(cat "$work/$t.check")" "password_file = $work/mon.pw" "$t: check-config names the password file"
no_secret "$t: check-config" "$work/$t.check"

# exec with the same configuration: the JSON and the logs stay clean.
secret_exec "SELECT current_user AS u" 0 "$t: exec as mon exits 0" '"u":"mon"' "$t: exec ran as mon"

# ---- password_file, a name resolved in $CREDENTIALS_DIRECTORY ---------------
t=creds
mkdir -p "$work/creds" "$work/$t-conf"
printf '%s\n' "$secret" >"$work/creds/mon.pw"
# The same name next to the config holds a wrong password: the credential
# directory must win.
printf '%s\n' "$wrong" >"$work/$t-conf/mon.pw"
chmod 0600 "$work/creds/mon.pw" "$work/$t-conf/mon.pw"
secret_config "$work/$t-conf/pghealthd.ini" "$work/$t-out" "conninfo=$ci_base" "password_file=mon.pw"
rc=0
CREDENTIALS_DIRECTORY=$work/creds pgh -c "$work/$t-conf/pghealthd.ini" once \
	>"$work/$t.stdout" 2>"$work/$t.stderr" || rc=$?
assert_eq 0 "$rc" "$t: password_file = mon.pw found in \$CREDENTIALS_DIRECTORY: exit 0"
[ "$rc" -eq 0 ] || tail -n 20 "$work/$t.stderr" | sed 's/^/#   /'
CREDENTIALS_DIRECTORY=$work/creds pgh -c "$work/$t-conf/pghealthd.ini" check-config \
	>"$work/$t.check" 2>&1 || true
assert_contains "$(cat "$work/$t.check")" "password_file = $work/creds/mon.pw" \
	"$t: check-config shows the credential's path"
no_secret "$t" "$work/$t.stdout" "$work/$t.stderr" "$work/$t.check" "$work/$t-out"
# Without the credential directory the file next to the config (wrong) is used.
run_once "$work/$t-conf/pghealthd.ini" 3 "$t: without \$CREDENTIALS_DIRECTORY the file beside the config is read"

# ---- a wrong password -> exit 3 with a clear error -------------------------
t=wrong
printf '%s\n' "$wrong" >"$work/wrong.pw"
chmod 0600 "$work/wrong.pw"
secret_config "$work/$t.ini" "$work/$t-out" "conninfo=$ci_base" "password_file=$work/wrong.pw"
run_once "$work/$t.ini" 3 "$t: a wrong password makes the round UNKNOWN"
assert_contains "$(status_error "$work/$t-out" who)" "password authentication failed" \
	"$t: status.csv says password authentication failed"
assert_contains "$(cat "$work/$t.ini.stderr")" "password authentication failed" \
	"$t: the log says password authentication failed"
no_secret "$t" "$work/$t.ini.stdout" "$work/$t.ini.stderr" "$work/$t-out"
secret_exec "SELECT 1" 1 "$t: exec with a wrong password exits 1" \
	"password authentication failed" "$t: exec's JSON says why"

# No password at all: the server's demand shows, nothing is guessed.
t=none
secret_config "$work/$t.ini" "$work/$t-out" "conninfo=$ci_base"
run_once "$work/$t.ini" 3 "$t: no password -> exit 3"
assert_match "password" "$(status_error "$work/$t-out" who)" "$t: the error is about the password"

# ---- a running daemon: /proc/PID/cmdline and environ -------------------------
t=daemon
secret_config "$work/$t.ini" "$work/$t-out" "conninfo=$ci_base" "password_file=$work/mon.pw"
start_daemon "$work/$t.ini" "$work/$t.log"
for _ in $(seq 1 "$(slow_ms 100)"); do
	[ -f "$work/$t-out/who.csv" ] && [ -f "$work/$t-out/pghealthd.prom" ] && break
	sleep 0.05
done
assert_file_exists "$work/$t-out/who.csv" "$t: the daemon ran the check as mon"
tr '\0' '\n' <"/proc/$dpid/cmdline" >"$work/$t.cmdline" || fail "$t: cannot read /proc/$dpid/cmdline"
tr '\0' '\n' <"/proc/$dpid/environ" >"$work/$t.environ" || fail "$t: cannot read /proc/$dpid/environ"
assert_contains "$(cat "$work/$t.cmdline")" "$work/$t.ini" "$t: /proc/PID/cmdline was read"
no_secret "$t: /proc/PID" "$work/$t.cmdline" "$work/$t.environ"
# A reload (log_level = debug) logs nothing secret either.
kill -HUP "$dpid"
sleep "$(awk -v f="$PGH_SLOW" 'BEGIN { print 1.5 * f }')"
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
assert_eq 0 "$rc" "$t: SIGTERM -> exit 0"
assert_contains "$(cat "$work/$t.log")" "reload" "$t: the reload was logged"
no_secret "$t" "$work/$t.log" "$work/$t-out"

# ---- a password inside conninfo: the file must be 0600 ----------------------
for form in keyword uri; do
	t=conninfo-$form
	if [ "$form" = keyword ]; then
		ci="conninfo=$ci_base password=$secret"
	else
		ci="conninfo=postgresql://mon:$secret@127.0.0.1:$PGPORT/postgres?connect_timeout=5"
	fi
	secret_config "$work/$t.ini" "$work/$t-out" "$ci"
	chmod 0644 "$work/$t.ini"
	run_once "$work/$t.ini" 78 "$t: a password in a 0644 config is refused"
	err=$(cat "$work/$t.ini.stderr")
	assert_contains "$err" "$work/$t.ini:2:" "$t: the refusal names file:line"
	assert_contains "$err" "chmod 0600" "$t: the refusal says chmod 0600"
	no_secret "$t: 0644 refusal" "$work/$t.ini.stdout" "$work/$t.ini.stderr"
	assert_file_absent "$work/$t-out" "$t: nothing ran"
	rc=0
	pgh -c "$work/$t.ini" check-config >"$work/$t.check" 2>&1 || rc=$?
	assert_eq 78 "$rc" "$t: check-config refuses the 0644 file too"
	no_secret "$t: check-config of the 0644 file" "$work/$t.check"

	# The control: the search finds the password where it is.
	if grep -qF "$secret" "$work/$t.ini"; then
		ok "$t: (control) the password is found in the config itself"
	else
		fail "$t: (control) the password is not found in the config"
	fi
	chmod 0600 "$work/$t.ini"
	run_once "$work/$t.ini" 0 "$t: the same config at 0600 works"
	assert_eq mon,scram "$(sed -n 2p "$work/$t-out/who.csv" 2>/dev/null)" "$t: the check ran as mon"
	no_secret "$t" "$work/$t.ini.stdout" "$work/$t.ini.stderr" "$work/$t-out"
	rc=0
	pgh -c "$work/$t.ini" check-config >"$work/$t.check" 2>&1 || rc=$?
	assert_eq 0 "$rc" "$t: check-config exits 0"
	assert_contains "$(cat "$work/$t.check")" "conninfo holds a password, not shown here" \
		"$t: check-config says a password is there, without it"
	assert_contains "$(cat "$work/$t.check")" "user=mon" "$t: check-config shows the rest of conninfo"
	no_secret "$t: check-config" "$work/$t.check"
done

# ---- PGPASSFILE -----------------------------------------------------------------
t=pgpass
printf '127.0.0.1:%s:*:mon:%s\n' "$PGPORT" "$secret" >"$work/pgpass"
chmod 0600 "$work/pgpass"
secret_config "$work/$t.ini" "$work/$t-out" "conninfo=$ci_base"
rc=0
PGPASSFILE=$work/pgpass pgh -c "$work/$t.ini" once >"$work/$t.stdout" 2>"$work/$t.stderr" || rc=$?
assert_eq 0 "$rc" "$t: a 0600 PGPASSFILE works"
[ "$rc" -eq 0 ] || tail -n 20 "$work/$t.stderr" | sed 's/^/#   /'
no_secret "$t" "$work/$t.stdout" "$work/$t.stderr" "$work/$t-out"
# libpq ignores a pgpass file that others can read.
chmod 0644 "$work/pgpass"
rc=0
PGPASSFILE=$work/pgpass pgh -c "$work/$t.ini" once >"$work/$t.stdout" 2>"$work/$t.stderr" || rc=$?
assert_eq 3 "$rc" "$t: a 0644 PGPASSFILE is ignored (libpq's rule): exit 3"
no_secret "$t: 0644" "$work/$t.stdout" "$work/$t.stderr" "$work/$t-out"

finish
