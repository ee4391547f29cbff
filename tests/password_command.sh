#!/bin/bash
# password_command against the real server with scram-sha-256: a role that
# needs its password over TCP.  The command's output is taken as a plain
# first line or as JSON in the AWS CLI's spellings (Secrets Manager's
# SecretString, get-cluster-credentials, redshift-serverless
# get-credentials), a JSON user name replacing the conninfo's; a rotated
# password (ALTER ROLE, the secret updated, pghealthd's backends terminated)
# is picked up by the running daemon within 5 s, without a restart; a
# hanging command is killed at password_command_timeout and `once` ends 3;
# a failing command's stderr is in the log; the password is nowhere it must
# not be; password_command with password_file is a configuration error.
#
# Run alone: meson test -C build password_command
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/password_command.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup password_command jq
secret="pgh-Cmd1-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"
rotated="pgh-Cmd2-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"

# ---- the server: pwmon and pwother need their password over TCP ------------
pgsql -c "SET password_encryption = 'scram-sha-256'" \
	-c "CREATE ROLE pwmon LOGIN PASSWORD '$secret'" \
	-c "CREATE ROLE pwother LOGIN PASSWORD '$secret'" || die "cannot create the roles"
hba_password_over_tcp pwmon,pwother

ci="host=127.0.0.1 port=$PGPORT dbname=postgres user=pwmon connect_timeout=5"
secret_file=$work/secret

# cmd_config FILE OUTDIR COMMAND [KEY=VALUE...]
cmd_config() {
	write_config "$1" "$2" 1s 2 "conninfo=$ci" application_name=pgh-pwcmd \
		"password_command=$3" "${@:4}"
	add_check "$1" whoami "SELECT current_user AS who"
}

# The password is in none of these.
no_secret_in() { # LABEL FILE...
	local label=$1 f
	shift
	for f in "$@"; do
		if grep -rqF -e "$secret" -e "$rotated" "$f" 2>/dev/null; then
			fail "$label: the password is in $f"
			return
		fi
	done
	ok "$label: the password is not in $*"
}

# ---- outputs -----------------------------------------------------------------
printf '%s\n' "$secret" >"$secret_file"
conf=$work/plain.ini
cmd_config "$conf" "$work/out-plain" "cat $secret_file" log_level=debug
run_once "$conf" 0 "a plain password on the first line"
assert_eq "who,pwmon" "$(tr '\n' ',' <"$work/out-plain/whoami.csv" | sed 's/,$//')" \
	"logged in as pwmon"
no_secret_in "plain" "$conf.stdout" "$conf.stderr" "$work/out-plain"

for form in secretsmanager cluster serverless; do
	case $form in
	secretsmanager) json="{\"username\": \"pwother\", \"password\": \"$secret\", \"engine\": \"redshift\"}" ;;
	cluster) json="{\"DbUser\": \"pwother\", \"DbPassword\": \"$secret\", \"Expiration\": \"2030-01-01T00:00:00Z\"}" ;;
	serverless) json="{\"dbUser\": \"pwother\", \"dbPassword\": \"$secret\", \"expiration\": \"2030-01-01T00:00:00Z\"}" ;;
	esac
	printf '%s\n' "$json" >"$work/$form.json"
	conf=$work/$form.ini
	cmd_config "$conf" "$work/out-$form" "cat $work/$form.json"
	run_once "$conf" 0 "JSON as $form prints it"
	assert_eq "who,pwother" "$(tr '\n' ',' <"$work/out-$form/whoami.csv" | sed 's/,$//')" \
		"$form: the JSON user name replaces the conninfo's"
done

# Runs of the command: one for every connection of a round while the
# password is younger than password_ttl.  With 0, one for the first
# connection and one shared by the two the pool then opens together.
printf '%s\n' "$secret" >"$secret_file"
for ttl in 10m 0; do
	conf=$work/ttl-$ttl.ini
	: >"$work/runs-$ttl"
	cmd_config "$conf" "$work/out-ttl-$ttl" "echo run >>$work/runs-$ttl; cat $secret_file" \
		password_ttl=$ttl max_connections=3 min_connections=1
	for c in a b c; do
		add_check "$conf" "slow_$c" "SELECT pg_sleep(0.3) AS s"
	done
	run_once "$conf" 0 "three connections, password_ttl = $ttl"
	conns=$(grep -c 'conn [0-9]*: ready' "$conf.stderr" || true)
	assert_le 2 "$conns" "password_ttl = $ttl: the round opened several connections ($conns)"
	if [ "$ttl" = 0 ]; then
		assert_eq 3 "$conns" "password_ttl = 0: three connections"
		assert_eq 2 "$(wc -l <"$work/runs-$ttl")" \
			"password_ttl = 0: the first connection's run, then one run shared by the other two"
	else
		assert_eq 1 "$(wc -l <"$work/runs-$ttl")" "password_ttl = 10m: one run serves every connection"
	fi
done

# exec uses it too.
out=$(pgh -c "$work/plain.ini" exec "SELECT current_user AS who")
assert_eq pwmon "$(jq -r '.rows[0].who' <<<"$out")" "exec logs in with the command's password"

# ---- rotation: a running daemon, no restart --------------------------------------
conf=$work/rotate.ini
out=$work/out-rotate
printf '%s\n' "$secret" >"$secret_file"
cmd_config "$conf" "$out" "cat $secret_file" password_ttl=1h
start_daemon "$conf" "$work/rotate.log"
wait_for 5000 test -s "$out/whoami.csv" || fail "the daemon's first round"
pgsql -c "ALTER ROLE pwmon PASSWORD '$rotated'" >/dev/null
printf '%s\n' "$rotated" >"$secret_file"
t0=$(now_ms)
pgsql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'pwmon'" >/dev/null
sleep 0.2
rm -f "$out/whoami.csv"
if wait_for 5000 test -s "$out/whoami.csv"; then
	ok "after a rotation, a successful round within 5 s ($(($(now_ms) - t0)) ms), no restart"
else
	fail "after a rotation, a successful round within 5 s"
	show_log "$work/rotate.log"
fi
assert_eq 1 "$(grep -c 'pghealthd.*starting' "$work/rotate.log" || true)" "the daemon did not restart"
no_secret_in "rotation" "$work/rotate.log" "$out"
for f in /proc/"$dpid"/cmdline /proc/"$dpid"/environ; do
	no_secret_in "running daemon" "$f"
done
stop_daemon "$dpid" 3000 "after the rotation" "$work/rotate.log"

# ---- a hanging command, a failing one ------------------------------------------
conf=$work/hang.ini
cmd_config "$conf" "$work/out-hang" "sleep 60" password_command_timeout=1s connect_timeout=2s
run_once "$conf" 3 "a hanging command"
assert_le "$pgh_wall_ms" "$(slow_ms 4500)" "once ends within the command timeout + connect_timeout + a little"
assert_contains "$(cat "$conf.stderr")" "password_command did not finish within 1s" \
	"the log says the command was killed"
assert_eq "" "$(pgrep -x -f 'sleep 60' || true)" "the command's process group is gone"

conf=$work/fail.ini
cmd_config "$conf" "$work/out-fail" "echo 'vault: permission denied on secret/pg' >&2; exit 2"
run_once "$conf" 3 "a failing command"
assert_contains "$(cat "$conf.stderr")" \
	"password_command exited with status 2: vault: permission denied on secret/pg" \
	"its stderr is in the log"
snapshot "$work/out-fail"
assert_contains "$(snap_get whoami 5)" "password_command exited with status 2" \
	"status.csv says why the check failed"

conf=$work/empty.ini
cmd_config "$conf" "$work/out-empty" "echo '{\"user\": \"x\"}'"
run_once "$conf" 3 "JSON without a password"
assert_contains "$(cat "$conf.stderr")" "printed JSON without a password" "the reason is named"

# ---- exclusive with password_file and a password in conninfo -------------------------
conf=$work/both.ini
cmd_config "$conf" "$work/out-both" "cat $secret_file" "password_file=$secret_file"
rc=0
pgh -c "$conf" check-config >/dev/null 2>"$work/both.err" || rc=$?
assert_eq 78 "$rc" "password_command with password_file: a configuration error"
assert_match "both.ini:[0-9]+: password_command and password_file both set" \
	"$(cat "$work/both.err")" "the error names the file and line"
conf=$work/shown.ini
cmd_config "$conf" "$work/out-shown" "cat $secret_file"
assert_contains "$(pgh -c "$conf" check-config)" "password_command = cat $secret_file" \
	"check-config shows the command"
no_secret_in "check-config" "$work/both.err"

finish
