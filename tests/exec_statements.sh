#!/usr/bin/env bash
# `pghealthd exec` runs any one statement, as the query executor's own
# examples do: DML and DDL answer "finished" with the rows they affected,
# an error answer only ever follows a statement that failed (and committed
# nothing), and even a broken configuration answers JSON on stdout.
# Run alone: meson test -C build exec_statements
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/exec_statements.sh
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup exec_statements jq
exec_config
count() { pgsql -c "SELECT count(*) FROM sales_log"; }

# ---- the executor's documented examples ---------------------------------------
run_exec "CREATE TABLE sales_log (customer_id int, product_id int, sale_date date)"
assert_eq 0 "$rc" "CREATE TABLE exits 0"
assert_eq '"finished"' "$(jget .status)" "CREATE TABLE: finished"
assert_eq 0 "$(jget .row_count)" "CREATE TABLE: row_count 0"

event '{"sql_query": "INSERT INTO sales_log (customer_id, product_id, sale_date) VALUES (123, 456, CURRENT_DATE)", "return_results": false}'
assert_eq 0 "$rc" "the Data Manipulation example exits 0"
assert_eq 200 "$(jget .statusCode)" "the Data Manipulation example: 200"
assert_eq '["statement_id","status"]' "$(jget '.body | keys')" \
	"the Data Manipulation example: exactly the documented success shape"
assert_eq '"finished"' "$(jget .body.status)" "the Data Manipulation example: finished"
assert_eq 1 "$(count)" "the row is inserted exactly once"

run_exec "UPDATE sales_log SET product_id = 457"
assert_eq '0 1' "$rc $(jget .row_count)" "UPDATE: finished, row_count = rows updated"
run_exec "INSERT INTO sales_log SELECT g, g, CURRENT_DATE FROM generate_series(1, 5) g"
assert_eq '0 5' "$rc $(jget .row_count)" "INSERT ... SELECT: row_count 5"
assert_eq 6 "$(count)" "six rows now"

# ---- errors commit nothing -------------------------------------------------------
run_exec "INSERT INTO sales_log VALUES (1, 1, CURRENT_DATE); SELECT 1"
assert_eq 1 "$rc" "two statements: an error, exit 1"
assert_contains "$(jget .message)" "multiple commands" "two statements: the server's reason"
assert_eq 6 "$(count)" "two statements: nothing was run"
run_exec "INSERT INTO sales_log VALUES ('x', 1, CURRENT_DATE)"
assert_eq 1 "$rc" "a failing INSERT: exit 1"
assert_eq 6 "$(count)" "a failing INSERT: nothing inserted"
assert_ne "" "$(jget .message)" "a failing INSERT: a message"
assert_eq "" "$(grep -i 'check' <<<"$(jget .message)")" "messages speak of the statement, not of a check"

# max-rows caps the answer, never the statement (a cancel would roll it back).
run_exec --max-rows 2 "INSERT INTO sales_log SELECT g, g, CURRENT_DATE FROM generate_series(1, 10) g RETURNING customer_id"
assert_eq 0 "$rc" "INSERT ... RETURNING past max-rows: exit 0"
assert_eq '2 true' "$(jq -r '"\(.row_count) \(.truncated)"' <<<"$out")" \
	"INSERT ... RETURNING past max-rows: 2 rows answered, truncated"
assert_eq 16 "$(count)" "INSERT ... RETURNING past max-rows: all 10 rows inserted"

# ---- JSON on stdout, whatever happens ----------------------------------------------
printf '[target\n' >"$work/broken.ini"
out=$(pgh -c "$work/broken.ini" exec "SELECT 1" 2>/dev/null)
rc=$?
assert_eq 78 "$rc" "a broken configuration: exit 78"
assert_eq '"error"' "$(jget .status)" "a broken configuration: JSON error on stdout"
assert_contains "$(jget .message)" "broken.ini" "a broken configuration: the message names the file"
out=$(printf '{"sql_query": "SELECT 1"}' | pgh -c "$work/broken.ini" exec --event - 2>/dev/null)
rc=$?
assert_eq '78 500 "error"' "$rc $(jget .statusCode) $(jget .body.status)" \
	"a broken configuration with --event: the 500 shape, exit 78"
out=$(pgh -c "$work/absent.ini" exec "SELECT 1" 2>/dev/null)
rc=$?
assert_eq '78 "error"' "$rc $(jget .status)" "a missing configuration: JSON error, exit 78"
out=$(pgh exec --event "$work/no-such-request.json" 2>/dev/null)
rc=$?
assert_eq '2 400' "$rc $(jget .statusCode)" "a missing --event file: 400, exit 2"
assert_contains "$(jget .body.error)" "$work/no-such-request.json" "a missing --event file is named"

finish
