#!/usr/bin/env bash
# `pghealthd lambda` under a stand-in of the Lambda Runtime API
# (tests/lambda-runtime.py, written from AWS's documentation: no AWS service
# can be reached here), against a real server: the query executor's own
# examples answered exactly as `exec --event` answers them, a 400, a 500, a
# timeout at the invocation's deadline, a server restart between
# invocations, a configuration error reported to init/error, 1000
# invocations with flat memory, and the login and the database from a
# stand-in of the Parameters and Secrets extension (also in lambda-runtime.py).
#
# With PGH_LAMBDA_ZIP=1 (the test lambda_zip) the function is the Lambda
# package instead: scripts/package-lambda's zip of $PGHEALTHD, unpacked
# into an empty root that holds nothing else but a static shell (busybox)
# as /bin/sh and an empty /tmp, and run there by chroot with only the
# environment Lambda gives; the server is reached over TCP.  Needs root:
# skipped (exit 77) without it.
# Run alone: meson test -C build lambda lambda_zip
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/lambda.sh
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup lambda jq python3
exec_config

standin=$here/lambda-runtime.py
runtime_pid=
function_pid=
zip_root=
if [ "${PGH_LAMBDA_ZIP:-0}" = 1 ]; then
	[ "$(id -u)" -eq 0 ] || skip_test "the Lambda package runs in a chroot: needs root"
	[ -x /bin/busybox ] || die "busybox-static is not installed (apt-get install busybox-static)"
	"$here/../scripts/package-lambda" --binary "$PGHEALTHD" --output "$work/function.zip" ||
		die "scripts/package-lambda failed"
	zip_root=$work/root
	mkdir -p "$zip_root/var/task" "$zip_root/bin" "$zip_root/tmp"
	chmod 1777 "$zip_root/tmp"
	python3 - "$work/function.zip" "$zip_root/var/task" <<'PY' || die "cannot unpack the zip"
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        z.extract(i, sys.argv[2])
        os.chmod(os.path.join(sys.argv[2], i.filename), (i.external_attr >> 16) & 0o777)
PY
	cp /bin/busybox "$zip_root/bin/sh"
	assert_eq "bin tmp var" "$(ls "$zip_root" | tr '\n' ' ' | sed 's/ $//')" \
		"zip: the root holds the function, a shell and /tmp, nothing else"
	assert_eq "" "$(find "$zip_root/var/task" -maxdepth 1 ! -name task ! -name bootstrap ! -name pghealthd \
		! -name lib ! -name LICENSES)" "zip: bootstrap, pghealthd, lib/ and LICENSES at its root"
	echo "figure: zip: $(($(stat -c %s "$work/function.zip") / 1024)) KiB, $(ls "$zip_root/var/task/lib" | wc -l) libraries"
fi
# runtime_start TIMEOUT_S [STORE]: the stand-in, its port in $port (and
# with STORE the extension's in $ext_port).
runtime_start() {
	rm -f "$work/port" "$work/port.ext"
	python3 "$standin" serve "$work/port" "$@" &
	runtime_pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$work/port" ] && { [ $# -lt 2 ] || [ -s "$work/port.ext" ]; } && break
		sleep 0.05
	done
	port=$(cat "$work/port") || die "the Runtime API stand-in did not start"
	ext_port=$(cat "$work/port.ext" 2>/dev/null)
}
# function_start [CONFIG [VAR=VALUE...]]: the function on it, with the
# variables given: pghealthd lambda, or the package's bootstrap in its root
# (the configuration copied into its /tmp, the server over TCP).
function_start() {
	local config=${1:-$PGHEALTHD_CONFIG}
	[ $# -gt 0 ] && shift
	if [ -n "$zip_root" ]; then
		cp "$config" "$zip_root/tmp/pghealthd.conf"
		env -i AWS_LAMBDA_RUNTIME_API="127.0.0.1:$port" LAMBDA_TASK_ROOT=/var/task \
			_HANDLER=pghealthd AWS_REGION=us-east-1 PATH=/bin LANG=C.UTF-8 \
			PGHEALTHD_CONFIG=/tmp/pghealthd.conf \
			PGHOST=127.0.0.1 PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE="$PGDATABASE" "$@" \
			/usr/sbin/chroot "$zip_root" /var/task/bootstrap 2>"$work/function.log" &
	else
		env AWS_LAMBDA_RUNTIME_API="127.0.0.1:$port" PGHEALTHD_CONFIG="$config" "$@" \
			"$PGHEALTHD" lambda 2>"$work/function.log" &
	fi
	function_pid=$!
}
stop_all() {
	[ -n "$function_pid" ] && kill "$function_pid" 2>/dev/null && wait "$function_pid" 2>/dev/null
	[ -n "$runtime_pid" ] && kill "$runtime_pid" 2>/dev/null && wait "$runtime_pid" 2>/dev/null
	function_pid= runtime_pid=
	return 0
}
trap 'stop_all' EXIT
invoke() { python3 "$standin" invoke "$port" "$1"; }
# no_id: an answer without its statement_id, which is new each time.
no_id() { sed 's/"statement_id":"[0-9a-f-]*"/"statement_id":"-"/'; }
# same_as_exec EVENT MESSAGE: the function answers EVENT as exec --event does.
same_as_exec() {
	local got want
	got=$(invoke "$1" | no_id)
	want=$(printf '%s' "$1" | "$PGHEALTHD" exec --event - | no_id)
	assert_eq "$want" "$got" "$2"
}

pgsql >/dev/null <<'SQL' || die "setup failed"
CREATE TABLE customers (customer_id int, customer_name text, status text);
INSERT INTO customers VALUES (1, 'Ada', 'active'), (2, 'Brian', 'inactive'), (3, 'Chen', 'active');
CREATE TABLE sales_log (customer_id int, product_id int, sale_date date);
CREATE TABLE sales_data (region text, sales_amount numeric(12,2), sale_date date);
INSERT INTO sales_data VALUES ('north', 100.50, '2024-02-01'), ('south', 75.25, '2024-03-01'),
	('north', 20.00, '2024-04-01'), ('west', 5.00, '2023-12-31');
SQL

runtime_start 30
function_start

# ---- the executor's own examples, as its README documents them -----------------------
ex1='{"sql_query": "SELECT customer_id, customer_name FROM customers WHERE status = '"'active'"' LIMIT 100"}'
ex2='{"sql_query": "INSERT INTO sales_log (customer_id, product_id, sale_date) VALUES (123, 456, CURRENT_DATE)", "return_results": false}'
ex3='{"sql_query": "SELECT region, SUM(sales_amount) as total_sales, COUNT(*) as transaction_count FROM sales_data WHERE sale_date >= '"'2024-01-01'"' GROUP BY region ORDER BY total_sales DESC"}'
test_invoke='{"sql_query": "SELECT 1 as test_column", "return_results": true}'

a=$(invoke "$ex1")
assert_eq 0 "$?" "basic SELECT: a response"
assert_eq 200 "$(jq .statusCode <<<"$a")" "basic SELECT: statusCode 200"
assert_eq '[{"customer_id":1,"customer_name":"Ada"},{"customer_id":3,"customer_name":"Chen"}]' \
	"$(jq -c .body.rows <<<"$a")" "basic SELECT: the active customers, typed"
same_as_exec "$ex1" "basic SELECT: byte for byte the answer of exec --event"
a=$(invoke "$ex2")
assert_eq '{"statusCode":200,"body":{"status":"finished","statement_id":"-"}}' "$(no_id <<<"$a")" \
	"INSERT, return_results false: the executor's {status, statement_id}"
assert_eq 1 "$(q "SELECT count(*) FROM sales_log WHERE customer_id = 123")" "the INSERT is committed"
same_as_exec "$ex2" "INSERT: byte for byte the answer of exec --event"
a=$(invoke "$ex3")
assert_contains "$a" '"rows":[{"region":"north","total_sales":120.50,"transaction_count":2},{"region":"south","total_sales":75.25,"transaction_count":1}]' \
	"analytics query: grouped and ordered, numbers typed with the server's digits"
same_as_exec "$ex3" "analytics query: byte for byte the answer of exec --event"
same_as_exec "$test_invoke" "the test invoke: byte for byte the answer of exec --event"
assert_eq '[{"test_column":1}]' "$(invoke "$test_invoke" | jq -c .body.rows)" "the test invoke: test_column 1"

# ---- 400 and 500 --------------------------------------------------------------------
a=$(invoke '{"return_results": true}')
assert_eq 400 "$(jq .statusCode <<<"$a")" "no sql_query: statusCode 400"
assert_eq string "$(jq -r '.body.error | type' <<<"$a")" "400: body.error says why"
same_as_exec '{"return_results": true}' "400: as exec --event answers it"
a=$(invoke '{"sql_query": "SELECT * FROM no_such_table"}')
assert_eq 500 "$(jq .statusCode <<<"$a")" "a failing query: statusCode 500"
assert_eq '"error"' "$(jq .body.status <<<"$a")" "500: status error"
assert_match 'no_such_table' "$(jq -r .body.message <<<"$a")" "500: the server's message"
conns=$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pghealthd'")
assert_eq 1 "$conns" "one warm connection between invocations"

# ---- a server restart between invocations --------------------------------------------
# Once after an invocation that succeeded (the connection idle), once after
# one that failed (its transaction still being ended when the answer went).
restart() {
	"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
	"$PGH_FIXTURE" startserver "$PGH_FIXTURE_DIR" >/dev/null || die "start failed"
}
for before in "$test_invoke" '{"sql_query": "SELECT * FROM no_such_table"}'; do
	invoke "$before" >/dev/null
	restart
	a=$(invoke "$test_invoke")
	assert_eq 200 "$(jq .statusCode <<<"$a")" \
		"a server restart after $(jq -r .sql_query <<<"$before"): reconnected, statusCode 200 $(jq -c .body.message <<<"$a")"
done

# ---- 1000 invocations, memory flat --------------------------------------------------------
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$function_pid/status"; }
python3 "$standin" invoke-many "$port" 100 "$ex3" >"$work/many.out"
assert_eq 0 "$?" "100 invocations: all answered 200 $(cat "$work/many.out")"
rss100=$(rss)
python3 "$standin" invoke-many "$port" 900 "$ex3" >"$work/many.out"
assert_eq 0 "$?" "900 more: all answered 200 $(cat "$work/many.out")"
rss1000=$(rss)
# Under AddressSanitizer freed memory waits in its quarantine (16 MiB in
# scripts/test-sanitizers) before it is reused.
slack=$((512 * ${PGH_RSS_FACTOR:-1}))
case ${ASAN_OPTIONS:-} in *quarantine_size_mb=*) slack=$((slack + 2 * 16384)) ;; esac
assert_le "$rss1000" $((rss100 + slack)) "memory flat: ${rss100} kB after 100 invocations, ${rss1000} kB after 1000"
stop_all

# ---- a timeout at the deadline ------------------------------------------------------------
# Invocations of 3 s: the statement is cancelled before the deadline and
# answered, and no query is left on the server.
runtime_start 3
function_start
t0=$(now_ms)
a=$(invoke '{"sql_query": "SELECT pg_sleep(20)"}')
t1=$(now_ms)
assert_eq 500 "$(jq .statusCode <<<"$a")" "past the deadline: statusCode 500"
assert_match 'timeout|cancel' "$(jq -r .body.message <<<"$a")" "500: says it timed out ($(jq -r .body.message <<<"$a"))"
assert_le $((t1 - t0)) 3000 "answered before the 3 s deadline ($((t1 - t0)) ms)"
assert_eq 0 "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(20)%' AND state = 'active'")" \
	"no query left running"
assert_eq 200 "$(invoke "$test_invoke" | jq .statusCode)" "the next invocation is answered"
stop_all

# ---- a configuration error goes to init/error ------------------------------------------------
printf '[target]\nconninfo = host=/nowhere\nno_such_key = 1\n' >"$work/bad.ini"
runtime_start 30
function_start "$work/bad.ini"
wait "$function_pid"
rc=$?
function_pid=
assert_eq 78 "$rc" "a bad configuration: exit 78"
err=$(python3 "$standin" init-error "$port")
assert_eq 0 "$?" "reported to init/error"
assert_match 'no_such_key' "$err" "init/error names the bad key: $err"
# The function read it as $zip_root/tmp/pghealthd.conf in the zip's root.
bad=$work/bad.ini
[ -n "$zip_root" ] && bad=$zip_root/tmp/pghealthd.conf
want=$(printf '%s' "$test_invoke" | PGHEALTHD_CONFIG=$bad "$PGHEALTHD" exec --event - 2>/dev/null)
[ -n "$zip_root" ] && want=${want//"$zip_root"/}
assert_eq "$want" "$err" "init/error is the JSON exit 78 gives"
stop_all

# ---- the login and the database from the Parameters and Secrets extension ----------------
# As the executor keeps them: the database and the secret's ARN in Parameter
# Store, the login ({"username", "password"}) in the secret; a role that
# needs its password over TCP, and a configuration that names neither.
pw="pgh-Lx1-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"
pw2="pgh-Lx2-$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')"
pgsql -c "SET password_encryption = 'scram-sha-256'" -c "CREATE ROLE pgh_lambda LOGIN PASSWORD '$pw'" \
	-c "CREATE DATABASE pgh_sales OWNER pgh_lambda" >/dev/null || die "cannot create the role"
hba_password_over_tcp pgh_lambda
arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift-credentials-AbCdEf
store() { # PASSWORD: the stand-in's store, replaced whole
	jq -n --arg pw "$1" --arg arn "$arn" '{token: "session-token-1",
		parameters: {SC_REDSHIFT_DATABASE: "pgh_sales", SC_REDSHIFT_SECRET_ARN: $arn},
		secrets: {($arn): ({username: "pgh_lambda", password: $pw} | tojson)}}' >"$work/store.new"
	mv -f "$work/store.new" "$work/store.json"
}
ext_log() { python3 "$standin" ext-log "$ext_port" | jq -c 'sort'; }
who='{"sql_query": "SELECT current_user AS who, current_database() AS db"}'
printf '[target]\nconninfo = host=127.0.0.1 port=%s\n' "$PGPORT" >"$work/ext.ini"
# ext_start VAR=VALUE...: the stand-in with the extension, the function
# with its token, the extension's port, the database's parameter and these.
ext_start() {
	runtime_start 30 "$work/store.json"
	function_start "$work/ext.ini" AWS_SESSION_TOKEN=session-token-1 \
		PARAMETERS_SECRETS_EXTENSION_HTTP_PORT="$ext_port" \
		PGHEALTHD_PARAMETER_PGDATABASE=SC_REDSHIFT_DATABASE "$@"
}
store "$pw"
ext_start PGHEALTHD_PARAMETER_PGHEALTHD_SECRET_ID=SC_REDSHIFT_SECRET_ARN
sleep 0.5
assert_eq "[]" "$(ext_log)" "extension: not asked before the first invocation (INVOKE phase only)"
a=$(invoke "$who")
assert_eq '[{"who":"pgh_lambda","db":"pgh_sales"}]' "$(jq -c .body.rows <<<"$a")" \
	"extension: the secret's user with its password, the parameter's database $(jq -c .body.message <<<"$a")"
assert_eq "[\"parameter SC_REDSHIFT_DATABASE\",\"parameter SC_REDSHIFT_SECRET_ARN\",\"secret $arn\"]" \
	"$(ext_log)" "extension: both parameters and the secret asked for, once"
invoke "$who" >/dev/null
assert_eq 3 "$(ext_log | jq length)" "extension: a warm invocation asks nothing"
# A rotated password: the warm connection goes on; a new one logs in with
# the secret fetched again.
pgsql -c "ALTER ROLE pgh_lambda PASSWORD '$pw2'" >/dev/null
store "$pw2"
assert_eq 200 "$(invoke "$who" | jq .statusCode)" "rotation: the warm connection goes on"
pgsql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'pgh_lambda'" >/dev/null
wait_sql "SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = 'pgh_lambda'" "the session gone"
a=$(invoke "$who")
assert_eq '[{"who":"pgh_lambda","db":"pgh_sales"}]' "$(jq -c .body.rows <<<"$a")" \
	"rotation: a new connection logs in with the new password $(jq -c .body.message <<<"$a")"
assert_eq "4 secret $arn" "$(python3 "$standin" ext-log "$ext_port" | jq -r '"\(length) \(.[-1])"')" \
	"rotation: the secret fetched again for the new connection"
if grep -qF -e "$pw" -e "$pw2" "$work/function.log"; then
	fail "extension: a password is in the function's log"
else
	ok "extension: no password in the function's log"
fi
stop_all

# A secret that is not there: that invocation's error, the same JSON as
# exit 78, and the setup tried again at the next.
ext_start PGHEALTHD_SECRET_ID=arn:aws:secretsmanager:us-east-1:123456789012:secret:gone
a=$(invoke "$who")
assert_eq 2 "$?" "no such secret: the invocation's error"
assert_eq Runtime.ConfigError "$(jq -r .type <<<"$a")" "no such secret: Runtime.ConfigError"
assert_eq 500 "$(jq .body.statusCode <<<"$a")" "no such secret: the JSON of exit 78"
assert_match 'secret:gone.*HTTP 400.*ResourceNotFoundException' "$(jq -r .body.body.message <<<"$a")" \
	"no such secret: names the secret and what the extension said"
jq --arg pw "$pw2" '.secrets["arn:aws:secretsmanager:us-east-1:123456789012:secret:gone"] =
	({username: "pgh_lambda", password: $pw} | tojson)' "$work/store.json" >"$work/store.new" &&
	mv -f "$work/store.new" "$work/store.json"
assert_eq '[{"who":"pgh_lambda","db":"pgh_sales"}]' "$(invoke "$who" | jq -c .body.rows)" \
	"the secret created: the setup tried again at the next invocation works"
stop_all
ext_start AWS_SESSION_TOKEN=wrong-token PGHEALTHD_PARAMETER_PGHEALTHD_SECRET_ID=SC_REDSHIFT_SECRET_ARN
assert_match 'parameter.*HTTP 401' "$(invoke "$who" | jq -r .body.body.message)" \
	"a wrong session token: the extension's 401, said"
stop_all

finish
