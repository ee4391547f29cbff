#!/bin/bash
# Every check sees exactly the configured session, and nothing a check does
# to its session reaches another check or outlives it — on one connection,
# and through pgbouncer in session and in transaction pooling, where
# nothing of pghealthd's settings may reach pgbouncer's other clients.
#
#  1. one connection, checks in config order that each change something
#     (TimeZone, search_path, role, statement_timeout, an advisory lock,
#     LISTEN, PREPARE, a temp table), each followed by a check that looks
#  2. transaction pooling: a 10 s-timeout check sleeping is never killed
#     early by another check's timeout, session_sql is in force inside the
#     check, a 1 s timeout is gone from the server within 1.5 s, and a plain
#     client of the same pgbouncer sees the server's defaults afterwards;
#     exec too
#  3. session pooling: the same isolation
#
# Needs root (pgbouncer runs as the server's user).
# Run alone: meson test -C build isolation
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/isolation.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup isolation root
pgsql -c "CREATE ROLE pgh_other NOLOGIN; CREATE SCHEMA nowhere" || die "setup failed"
server_tz=$(PGOPTIONS= psql -X -At -c "SHOW TimeZone")

# The value in row 2 of OUTDIR/CHECK.csv ("" when there is no file).
value() { sed -n 2p "$1/$2.csv" 2>/dev/null; }

# add_pairs CONF: the changers and the lookers, in config order.
add_pairs() {
	local conf=$1
	add_check "$conf" a_tz "SELECT set_config('TimeZone', 'Asia/Tokyo', false) AS x"
	add_check "$conf" b_tz "SELECT current_setting('TimeZone') AS tz"
	add_check "$conf" c_path "SELECT set_config('search_path', 'nowhere', false) AS x"
	add_check "$conf" d_path "SELECT current_setting('search_path') AS path"
	add_check "$conf" e_role "SELECT set_config('role', 'pgh_other', false) AS x"
	add_check "$conf" f_role "SELECT current_user AS who"
	add_check "$conf" g_timeout "SELECT set_config('statement_timeout', '0', false) AS x"
	add_check "$conf" h_timeout "SELECT current_setting('statement_timeout') AS t"
	add_check "$conf" i_lock "SELECT pg_advisory_lock(4242) AS x, 1 AS y"
	add_check "$conf" j_lock "SELECT count(*) AS held FROM pg_locks WHERE locktype = 'advisory'"
	add_check "$conf" k_listen "LISTEN pgh_channel"
	add_check "$conf" l_listen "SELECT count(*) AS channels FROM pg_listening_channels()"
	add_check "$conf" m_prepare "PREPARE pgh_p AS SELECT 1"
	add_check "$conf" n_prepare "SELECT count(*) AS prepared FROM pg_prepared_statements"
	add_check "$conf" o_temp "SELECT 1 AS x FROM (SELECT set_config('pghealthd.isolation.x', 'leaked', false)) s"
	add_check "$conf" p_temp "SELECT coalesce(current_setting('pghealthd.isolation.x', true), '') AS x"
}

# check_pairs OUTDIR LABEL: what the lookers saw.
check_pairs() {
	local out=$1 l=$2
	assert_eq UTC "$(value "$out" b_tz)" "$l: TimeZone is the configured one after a check changed it"
	assert_eq '"""$user"", public"' "$(value "$out" d_path)" "$l: search_path is the default after a check changed it"
	assert_eq postgres "$(value "$out" f_role)" "$l: the connecting role after a check set another"
	assert_match '^[0-9]+(ms|s)$' "$(value "$out" h_timeout)" "$l: statement_timeout in force after a check set 0"
	assert_eq 0 "$(value "$out" j_lock)" "$l: no advisory lock outlives its check"
	assert_eq 0 "$(value "$out" l_listen)" "$l: no LISTEN outlives its check"
	assert_eq 0 "$(value "$out" n_prepare)" "$l: no prepared statement outlives its check"
	assert_eq '""' "$(value "$out" p_temp)" "$l: no custom setting outlives its check"
}

# ===========================================================================
# 1. One connection
# ===========================================================================
conf=$work/one.ini
write_config "$conf" "$work/out-one" 60s 1
add_pairs "$conf"
pgh -c "$conf" once >/dev/null 2>"$work/one.err" || true
check_pairs "$work/out-one" "one connection"
# The server-side timeout acts even after a check set statement_timeout = 0.
conf=$work/timeout.ini
write_config "$conf" "$work/out-timeout" 60s 1
add_check "$conf" g_timeout "SELECT set_config('statement_timeout', '0', false) AS x"
add_check "$conf" sleeper "SELECT pg_sleep(5)" "timeout = 1s"
pgh -c "$conf" once >/dev/null 2>&1 || true
err=$(status_sql "$work/out-timeout" "SELECT error FROM status WHERE \"check\" = 'sleeper'")
ms=$(status_sql "$work/out-timeout" "SELECT duration_ms FROM status WHERE \"check\" = 'sleeper'")
assert_contains "$err" "canceling statement due to statement timeout" \
	"the server's statement_timeout ended the check, not only the client's cancel"
assert_le "${ms%.*}" "$(slow_ms 1400)" "the server-side timeout acted at 1 s (${ms} ms)"

# ===========================================================================
# 2. pgbouncer, transaction pooling
# ===========================================================================
bouncer_start "$work/tx" transaction 2
conf=$work/tx.ini
write_config "$conf" "$work/out-tx" 60s 5 application_name=pgh-tx "conninfo=$bouncer_conninfo" \
	"session_sql=SET lock_timeout = '1234ms'"
for i in 1 2 3 4; do
	add_check "$conf" "sleeper$i" "SELECT pg_sleep(1.5), current_setting('lock_timeout') AS lt" "timeout = 10s"
	add_check "$conf" "quick$i" "SELECT pg_sleep(0.05), current_setting('statement_timeout') AS st" "timeout = 1s"
done
killed=0
runs=0
for r in 1 2 3; do
	pgh -c "$conf" once >/dev/null 2>"$work/tx$r.err" || true
	for i in 1 2 3 4; do
		runs=$((runs + 1))
		st=$(status_sql "$work/out-tx" "SELECT state FROM status WHERE \"check\" = 'sleeper$i'")
		[ "$st" = findings ] || killed=$((killed + 1))
	done
	: "$r"
done
echo "figure: transaction pooling: $killed of $runs runs of a 10 s check sleeping 1.5 s ended early"
assert_eq 0 "$killed" "transaction pooling: no check is killed by another check's timeout"
assert_eq '"",1234ms' "$(value "$work/out-tx" sleeper1)" "transaction pooling: session_sql is in force inside the check"
assert_eq '"",1s' "$(value "$work/out-tx" quick1)" "transaction pooling: the check's own statement_timeout is in force"

conf=$work/tx-timeout.ini
write_config "$conf" "$work/out-txt" 60s 2 application_name=pgh-txt "conninfo=$bouncer_conninfo"
add_check "$conf" sleeper "SELECT pg_sleep(10) AS s" "timeout = 1s"
running() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(10) AS s%'")" -ge 1 ]; }
t0=$(now_ms)
pgh_bg "$work/txt.log" -c "$conf" once
txt_pid=$pgh_pid
started_pids+=("$txt_pid")
wait_for 3000 running || fail "the 1 s check runs through pgbouncer"
wait_for 5000 eval '! running' || true
gone=$(($(now_ms) - t0))
echo "figure: transaction pooling: a 1 s check's query gone from the server after ${gone} ms"
assert_le "$gone" "$(slow_ms 1500)" "transaction pooling: a 1 s timeout is gone from the server within 1.5 s"
wait "$txt_pid" || true

# A plain client of the same pgbouncer: the server's defaults, on both of
# its server connections, also after exec.
pgh -c "$conf" exec --timeout 1s "SELECT pg_sleep(0.1)" >/dev/null 2>&1 || fail "exec through transaction pooling"
for i in 1 2 3 4; do
	got=$(bouncer_sql -c "SELECT current_setting('statement_timeout') || ' ' || current_setting('lock_timeout') || ' ' || current_setting('TimeZone')")
	assert_eq "0 0 $server_tz" "$got" "transaction pooling: another client sees the server's defaults ($i)"
	: "$i"
done
rc=0
bouncer_sql -c "SELECT pg_sleep(1.5)" >/dev/null 2>&1 || rc=$?
assert_eq 0 "$rc" "transaction pooling: another client's 1.5 s query is not cancelled after exec --timeout 1s"

conf=$work/tx-pairs.ini
write_config "$conf" "$work/out-txp" 60s 1 application_name=pgh-txp "conninfo=$bouncer_conninfo"
add_pairs "$conf"
pgh -c "$conf" once >/dev/null 2>&1 || true
check_pairs "$work/out-txp" "transaction pooling"
bouncer_stop "$work/tx"

# ===========================================================================
# 3. pgbouncer, session pooling
# ===========================================================================
bouncer_start "$work/session" session 2
conf=$work/session.ini
write_config "$conf" "$work/out-session" 60s 1 application_name=pgh-session "conninfo=$bouncer_conninfo"
add_pairs "$conf"
pgh -c "$conf" once >/dev/null 2>&1 || true
check_pairs "$work/out-session" "session pooling"
out=$(pgh -c "$conf" exec "SELECT current_setting('TimeZone') AS tz" 2>/dev/null)
assert_eq UTC "$(jq -r '.rows[0].tz' <<<"$out")" "session pooling: exec sees the configured TimeZone"
bouncer_stop "$work/session"

finish
