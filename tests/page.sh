#!/bin/bash
# The output directory people look at:
#  1. status.csv's since: set when a check enters its state, kept while the
#     state holds, moved when it changes, kept across a reload and a
#     restart; `pghealthd status` shows it as an age; the textfile has it as
#     a metric; a reload keeps the page's trend of the runs before it
#  2. [run] html_file, rendered by a real browser (Debian's chromium,
#     headless): every check is in the DOM, its error and hostile values are
#     text (no element is made from data), findings link to their CSV, the
#     trend is drawn after a few rounds; a screenshot is kept in
#     $PGH_ARTIFACT_DIR; 100 checks with big hostile findings stay under 1 MB
#
# Run alone: meson test -C build page
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/page.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup page chromium
artifacts=${PGH_ARTIFACT_DIR:-$work/artifacts}
mkdir -p "$artifacts"

# The DOM as the browser built it (scripts would have run: there are none).
dom_of() { # HTMLFILE
	timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$work/chromium" --dump-dom "file://$1" 2>/dev/null
}

since_of() { # OUTDIR CHECK
	awk -F, -v c="$2" '$1 == c { print $NF }' "$1/status.csv"
}

pgsql -c "CREATE TABLE page_flip (a int)"

# ===========================================================================
# 1. since
# ===========================================================================
conf=$work/since.ini
out=$work/out-since
write_config "$conf" "$out" 300ms 2 prometheus_file=pghealthd.prom html_file=index.html
add_check "$conf" flip "SELECT a FROM page_flip"
add_check "$conf" steady "SELECT 1 AS one"
start_daemon "$conf" "$work/since.log"
wait_for 5000 test -s "$out/status.csv" || fail "the first round"
s_flip=$(since_of "$out" flip)
s_steady=$(since_of "$out" steady)
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$' "$s_flip" "since is ISO 8601 UTC with ms"
r0=$(grep -c 'round [0-9]*:' "$work/since.log" || true)
wait_for 5000 bash -c "[ \$(grep -c 'round [0-9]*:' '$work/since.log') -ge $((r0 + 2)) ]" ||
	fail "two more rounds"
assert_eq "$s_flip" "$(since_of "$out" flip)" "since stays while the state holds"
pgsql -c "INSERT INTO page_flip VALUES (1)"
wait_for 5000 grep -q '^flip,info,findings' "$out/status.csv" || fail "flip finds a row"
s_flip2=$(since_of "$out" flip)
assert_ne "$s_flip" "$s_flip2" "since moves when the state changes (ok -> findings)"
assert_le "$(date -d "$s_flip" +%s)" "$(date -d "$s_flip2" +%s)" "and moves forward"
assert_eq "$s_steady" "$(since_of "$out" steady)" "another check's since is untouched"
assert_contains "$(cat "$out/pghealthd.prom")" \
	"pghealthd_check_state_since_timestamp_seconds{check=\"flip\",severity=\"info\"} $(date -d "$s_flip2" +%s)." \
	"the textfile has since as a metric"
# The fewest runs any check's trend on the page shows.
trend_runs() {
	grep -o 'rows of the latest [0-9]* runs' "$out/index.html" | awk '{ print $5 }' | sort -n | head -n 1
}
wait_for 5000 bash -c "[ \"\$(grep -o 'rows of the latest [0-9]* runs' '$out/index.html' | wc -l)\" = 2 ]" ||
	fail "both checks have a trend"
n_before=$(trend_runs)
kill -HUP "$dpid"
wait_for 5000 log_has "$work/since.log" "configuration reloaded" || fail "the reload is applied"
r1=$(grep -c 'round [0-9]*:' "$work/since.log" || true)
wait_for 5000 bash -c "[ \$(grep -c 'round [0-9]*:' '$work/since.log') -ge $((r1 + 2)) ]" ||
	fail "two rounds after the reload"
assert_eq "$s_flip2" "$(since_of "$out" flip)" "since survives a reload"
assert_eq "$s_steady" "$(since_of "$out" steady)" "since survives a reload (steady)"
assert_le "$((n_before < 30 ? n_before + 1 : 30))" "$(trend_runs)" \
	"the page's trend keeps the runs before a reload ($n_before before it)"
stop_daemon "$dpid" 3000 "since" "$work/since.log"
run_once "$conf" 0 "a round after a restart"
assert_eq "$s_flip2" "$(since_of "$out" flip)" "since survives a restart"
assert_eq "$s_steady" "$(since_of "$out" steady)" "since survives a restart (steady)"
assert_match 'flip +info +findings +[0-9]+(s|m[0-9]{2}s) ' "$(pgh -c "$conf" status)" \
	"pghealthd status shows since as an age"

# ===========================================================================
# 2. the page
# ===========================================================================
hostile='<script>alert(1)</script><img src=x onerror=alert(2)>'
conf=$work/page.ini
out=$work/out-page
write_config "$conf" "$out" 300ms 3 html_file=index.html history=3
add_check "$conf" hostile "SELECT '$hostile' AS \"<b>col</b>\", 'a&b \"q\"' AS v" "severity = warning"
add_check "$conf" broken "SELECT 1/0 AS \"<i>x</i>\"" "severity = critical"
add_check "$conf" fine "SELECT 1 WHERE false"
add_check "$conf" many "SELECT g, md5(g::text) FROM generate_series(1, 120) g"
add_check "$conf" 'evil.name-1' "SELECT 'x' AS \"<u>u</u>\""
start_daemon "$conf" "$work/page.log"
wait_for 5000 bash -c "[ \$(grep -c 'round [0-9]*:' '$work/page.log') -ge 3 ]" || fail "three rounds"
stop_daemon "$dpid" 3000 "the page" "$work/page.log"
assert_file_exists "$out/index.html" "html_file is written"
assert_no_tmp_files "$out" "the page is published atomically"
html=$(cat "$out/index.html")
assert_contains "$html" '<meta http-equiv="refresh" content="1">' "it refreshes at the interval"
assert_eq "" "$(grep -io '<script\|<link\|src="http\|href="http\|@import' <<<"$html" || true)" \
	"self-contained: no script, nothing loaded from elsewhere"
dom=$(dom_of "$out/index.html")
[ -n "$dom" ] || die "chromium gave no DOM"
printf '%s\n' "$dom" >"$artifacts/page-dom.html"
for c in hostile broken fine many evil.name-1; do
	assert_contains "$dom" "$c" "the DOM shows check $c"
done
assert_contains "$dom" "division by zero" "the error is on the page"
assert_contains "$dom" "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" \
	"a hostile value is text"
assert_contains "$dom" "&lt;b&gt;col&lt;/b&gt;" "a hostile column name is text"
assert_eq 0 "$(grep -io '<script\|<img\|<b>\|<i>\|<u>' <<<"$dom" | wc -l)" \
	"no element of the DOM comes from the data"
assert_contains "$dom" 'href="hostile.csv"' "findings link to their CSV"
assert_contains "$dom" 'href="history/hostile/"' "and to their history"
assert_contains "$dom" "the first 50 of 120 rows" "a long result shows its first 50 rows"
assert_contains "$dom" "<polyline" "the trend is drawn after a few rounds"
timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--user-data-dir="$work/chromium" --window-size=1100,900 \
	--screenshot="$artifacts/page.png" "file://$out/index.html" >/dev/null 2>&1 || true
assert_file_exists "$artifacts/page.png" "a screenshot is kept ($artifacts/page.png)"
assert_le 10000 "$(stat -c %s "$artifacts/page.png")" "the screenshot is not blank"
timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--user-data-dir="$work/chromium" --window-size=390,844 \
	--screenshot="$artifacts/page-phone.png" "file://$out/index.html" >/dev/null 2>&1 || true
assert_file_exists "$artifacts/page-phone.png" "a phone-sized screenshot is kept"

# 100 checks, each with 50 rows of big values full of characters to escape.
conf=$work/big.ini
out=$work/out-big
write_config "$conf" "$out" 60s 3 html_file=index.html
for i in $(seq -w 1 100); do
	add_check "$conf" "big$i" "SELECT g, repeat('<\"&>''', 400) AS v FROM generate_series(1, 60) g"
done
run_once "$conf" 0 "100 checks with big findings"
size=$(stat -c %s "$out/index.html")
echo "figure: the page of 100 checks with big findings is $size bytes"
assert_le "$size" 1000000 "a 100-check page stays under 1 MB"
dom=$(dom_of "$out/index.html")
assert_contains "$dom" "big100" "the big page renders to the last check"

finish
