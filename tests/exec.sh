#!/usr/bin/env bash
# `pghealthd exec`: one query to typed JSON, against a real server.
# Run alone: meson test -C build exec
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/exec.sh
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup exec jq
exec_config

# ---- one query per type family: value and JSON type -----------------------
run_exec "SELECT 1::int2 AS i2, 2147483647::int4 AS i4,
	9007199254740993::int8 AS i8_beyond_2p53, (-9223372036854775808)::int8 AS i8_min,
	12345678901234567890123456789012345678.123::numeric AS n38,
	0.1::float8 AS f8, 'NaN'::float8 AS f_nan, 'Infinity'::float8 AS f_inf,
	'-Infinity'::float4 AS f_ninf, 'NaN'::numeric AS n_nan,
	true AS b_t, false AS b_f, NULL::int4 AS nul,
	E'quo\"te, back\\\\slash / tab\\t nl\\n ctl\\u0001 é 🐘' AS txt,
	'\\x00ff10'::bytea AS bin, ''::bytea AS bin_empty,
	'{\"k\": 12345678901234567890123, \"l\": [1.10, null], \"s\": \"x/y\"}'::json AS js,
	'{\"a\": {\"b\": [true]}}'::jsonb AS jsb, 'null'::jsonb AS js_null,
	'2026-11-21'::date AS d, '2026-11-21 14:05:00.123+00'::timestamptz AS ts,
	interval '1 day 02:03:04' AS iv, '6b1f2b4e-3c7a-4f55-9d1e-2a9c2f3e4d5c'::uuid AS u,
	ARRAY[1, NULL, 3] AS arr, 42::oid AS o"
assert_eq 0 "$rc" "type query exits 0"
assert_eq '"finished"' "$(jget .status)" "status finished"
assert_match '^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$' \
	"$(jget .statement_id)" "statement_id is a UUID v4"
assert_eq 1 "$(jget .row_count)" "row_count 1"
assert_eq false "$(jget .truncated)" "not truncated"
assert_eq '{"name":"i8_beyond_2p53","type":"int8"}' "$(jget '.columns[2]')" "columns carry name and type"
assert_eq 25 "$(jget '.columns | length')" "one column entry per column"
row=$(jget '.rows[0]')
# Numbers keep PostgreSQL's digits: compare the raw text, not a parsed double.
assert_contains "$out" '"i8_beyond_2p53":9007199254740993,' "int8 beyond 2^53 exact"
assert_contains "$out" '"i8_min":-9223372036854775808,' "int8 minimum exact"
assert_contains "$out" '"n38":12345678901234567890123456789012345678.123,' "38-digit numeric exact"
assert_contains "$out" '"f8":0.1,' "float8 as PostgreSQL prints it"
assert_contains "$out" '"i2":1,"i4":2147483647,' "int2/int4 as numbers"
for k in f_nan f_inf f_ninf n_nan; do
	assert_eq string "$(jq -r ".$k | type" <<<"$row")" "$k is a string"
done
assert_eq '"NaN"' "$(jq -c .f_nan <<<"$row")" "NaN text kept"
assert_eq '"-Infinity"' "$(jq -c .f_ninf <<<"$row")" "-Infinity text kept"
assert_eq 'true false' "$(jq -r '"\(.b_t) \(.b_f)"' <<<"$row")" "bool as true/false"
assert_eq boolean "$(jq -r '.b_t | type' <<<"$row")" "bool is a JSON boolean"
assert_eq null "$(jq -c .nul <<<"$row")" "NULL is null"
assert_eq "$(pgsql -At -c "SELECT E'quo\"te, back\\\\slash / tab\\t nl\\n ctl\\u0001 é 🐘'")" \
	"$(jq -r .txt <<<"$row")" "text with quotes, control characters and non-ASCII round-trips"
assert_eq '"AP8Q"' "$(jq -c .bin <<<"$row")" "bytea as base64 of the bytes"
assert_eq '""' "$(jq -c .bin_empty <<<"$row")" "empty bytea as empty base64"
assert_contains "$out" '"js":{"k": 12345678901234567890123, "l": [1.10, null], "s": "x/y"}' \
	"json embedded verbatim (big integer and 1.10 kept)"
assert_eq object "$(jq -r '.js | type' <<<"$row")" "json is a JSON object"
assert_eq '{"a":{"b":[true]}}' "$(jq -c .jsb <<<"$row")" "jsonb embedded as JSON"
assert_eq null "$(jq -c .js_null <<<"$row")" "jsonb null is JSON null"
for k in d ts iv u arr; do
	assert_eq string "$(jq -r ".$k | type" <<<"$row")" "$k is a string"
done
assert_eq '"1 day 02:03:04"' "$(jq -c .iv <<<"$row")" "interval text"
assert_eq '"{1,NULL,3}"' "$(jq -c .arr <<<"$row")" "array as its text"
assert_eq 42 "$(jq -c .o <<<"$row")" "oid as a number"

# A type the built-in table does not know is looked up by name.
pgsql -q -c "CREATE TYPE exec_mood AS ENUM ('ok', 'sad')"
run_exec "SELECT 'sad'::exec_mood AS m"
assert_eq '[{"name":"m","type":"exec_mood"}]' "$(jget .columns)" "enum column type name looked up"
assert_eq '"sad"' "$(jget '.rows[0].m')" "enum value as a string"

# ---- max-rows, no-results --------------------------------------------------
run_exec --max-rows 3 "SELECT g FROM generate_series(1, 10) g"
assert_eq 0 "$rc" "--max-rows exits 0"
assert_eq '[1,2,3]' "$(jget '[.rows[].g]')" "--max-rows 3 keeps the first 3 rows"
assert_eq '3 true' "$(jq -r '"\(.row_count) \(.truncated)"' <<<"$out")" "truncated with row_count 3"
run_exec --max-rows 10 "SELECT g FROM generate_series(1, 10) g"
assert_eq '10 false' "$(jq -r '"\(.row_count) \(.truncated)"' <<<"$out")" \
	"exactly max-rows rows is not truncated"
run_exec "SELECT g FROM generate_series(1, 1500) g"
assert_eq '1000 true' "$(jq -r '"\(.row_count) \(.truncated)"' <<<"$out")" "default max-rows is 1000"
run_exec --no-results "SELECT g FROM generate_series(1, 5) g"
assert_eq 0 "$rc" "--no-results exits 0"
assert_eq '["statement_id","status"]' "$(jget 'keys')" \
	"--no-results: exactly the API's {status, statement_id}"

# ---- errors and timeouts ---------------------------------------------------
run_exec "SELECT * FROM no_such_table"
assert_eq 1 "$rc" "a query error exits 1"
assert_eq '"error"' "$(jget .status)" "query error status"
assert_contains "$(jget .message)" 'relation \"no_such_table\" does not exist' "server message kept"

t0=$(now_ms)
run_exec --timeout 1s "SELECT pg_sleep(10)"
t1=$(now_ms)
assert_eq 1 "$rc" "a timeout exits 1"
assert_contains "$(jget .message)" "timeout" "the message says timeout"
assert_le $((t1 - t0)) "$(slow_ms 4000)" "the timeout returns promptly ($((t1 - t0)) ms)"
left=$(pgsql -At -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(10)%'")
assert_eq 0 "$left" "no query left on the server after the timeout"

PGPORT=1 run_exec "SELECT 1"
assert_eq 1 "$rc" "an unreachable server exits 1"
assert_contains "$(jget .message)" "could not connect" "connection error message"

# ---- bad requests ------------------------------------------------------------
PGHEALTHD_CONFIG=$work/absent.ini run_exec "SELECT 1"
assert_eq 78 "$rc" "a named configuration that does not exist is a config error"

run_exec
assert_eq 2 "$rc" "no SQL exits 2"
run_exec --max-rows x "SELECT 1"
assert_eq 2 "$rc" "a bad --max-rows exits 2"
run_exec --bogus "SELECT 1"
assert_eq 2 "$rc" "an unknown option exits 2"
assert_eq '"error"' "$(jget .status)" "a bad request is a JSON error too"

# ---- --event: the API's exact shape ------------------------------------------
event '{"sql_query": "SELECT 1 AS x, NULL AS y", "return_results": true}'
assert_eq 0 "$rc" "event 200 exits 0"
assert_eq 200 "$(jget .statusCode)" "statusCode 200"
assert_eq '"finished"' "$(jget .body.status)" "body.status finished"
assert_eq '[{"x":1,"y":null}]' "$(jget .body.rows)" "body.rows"
assert_match '^"[0-9a-f-]{36}"$' "$(jget .body.statement_id)" "body.statement_id"
event '{"sql_query": "SELECT 1 AS x", "return_results": false}'
assert_eq 'false false' "$(jq -r '"\(.body | has("rows")) \(.body | has("columns"))"' <<<"$out")" \
	"return_results false: no rows or columns"
printf '{"sql_query": "SELECT 7 AS seven"}' >"$work/event.json"
out=$(pgh exec --event "$work/event.json" 2>/dev/null)
assert_eq '[{"seven":7}]' "$(jget .body.rows)" "--event FILE; return_results defaults to true"
event '{"return_results": true}'
assert_eq '2 400' "$rc $(jget .statusCode)" "missing sql_query: 400, exit 2"
assert_contains "$(jget .body.error)" "sql_query" "400 body names the problem"
event '{"sql_query": 42}'
assert_eq '2 400' "$rc $(jget .statusCode)" "non-string sql_query: 400"
event '{"sql_query": "SELECT 1"'
assert_eq '2 400' "$rc $(jget .statusCode)" "invalid JSON: 400"
assert_eq '["error"]' "$(jget '.body | keys')" "400 body is {\"error\": ...}"
event '[1, 2]'
assert_eq '2 400' "$rc $(jget .statusCode)" "a JSON array: 400"
# RFC 8259 puts no limit on numbers: a member pghealthd does not read may
# hold any, whichever json-c the build has (0.17+ refuses them when strict).
event '{"sql_query": "SELECT 1 AS x", "trace": 123456789012345678901234567890, "w": -1.5e300}'
assert_eq '0 200' "$rc $(jget .statusCode)" "a request with an integer beyond uint64 in another member: 200"
event '{"sql_query": "SELECT 1", "n": 01}'
assert_eq '2 400' "$rc $(jget .statusCode)" "a number outside RFC 8259's grammar (01) is still a 400"
event '{"sql_query": "SELECT * FROM no_such_table"}'
assert_eq '1 500' "$rc $(jget .statusCode)" "query error: 500, exit 1"
assert_eq '"error"' "$(jget .body.status)" "500 body status error"
assert_contains "$(jget .body.message)" "no_such_table" "500 body message"

# stdout carries only the JSON: jq parses all of it even with warnings logged.
out=$(pgh exec "SELECT * FROM no_such_table" 2>/dev/null)
assert_eq 0 "$(jq empty <<<"$out" >/dev/null 2>&1; echo $?)" "stdout is pure JSON on errors"

# ---- memory stays flat over a million rows ---------------------------------
if [ -z "$PGH_WRAPPER" ]; then
	pgh_set_cmd
	/usr/bin/time -f '%M' -o "$work/rss" "${PGH_CMD[@]}" exec --max-rows 0 \
		"SELECT g, md5(g::text) AS h FROM generate_series(1, 1000000) g" >"$work/big.json" 2>/dev/null
	rss=$(tail -n 1 "$work/rss")
	echo "figures: exec --max-rows 0 over 1M rows: peak RSS ${rss} KB, $(stat -c %s "$work/big.json") bytes"
	assert_eq 1000000 "$(jq '.row_count' "$work/big.json")" "1M rows returned"
	assert_eq 1000000 "$(jq '.rows | length' "$work/big.json")" "1M rows in the body"
	assert_le "$rss" "$(rss_kb 32768)" "peak RSS over 1M rows stays under $(rss_kb 32768) KB (${rss} KB)"
fi

finish
