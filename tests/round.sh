#!/bin/bash
# Round semantics of `pghealthd once`: empty results leave no file (and a
# stale one is removed), status.csv rows and states, the exit code
# (0 OK / 1 WARNING / 2 CRITICAL / 3 UNKNOWN), one failing check does not
# affect the others, no temp file survives a round, file modes.
#
# Run alone: meson test -C build round
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/round.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup round
umask 022

out=$work/out
exp=$work/expected
mkdir -p "$out" "$exp"

# new_round NAME [CHECK SEVERITY SQL]...: round NAME ($round), its
# configuration $conf ($work/NAME.ini) with these checks.
new_round() {
	round=$1
	conf=$work/$1.ini
	shift
	new_config "$conf" "$out" max_connections=3
	while [ $# -gt 0 ]; do
		add_check "$conf" "$1" "$3" "severity = $2"
		shift 3
	done
}

# expect_status NAME STATE ROWS: the check's row in status.csv.
expect_status() {
	local got
	got=$(awk -F'|' -v c="$1" '$1 == c { print $2 "|" $3 }' "$work/status.txt")
	assert_eq "$2|$3" "$got" "$round: status of $1 is $2 with $3 rows"
}

# load_status: status.csv loads back with COPY (header checked); keep
# check|state|rows|severity|file|error per line in status.txt.
load_status() {
	if ! status_sql "$out" "SELECT \"check\", state, rows, severity,
			coalesce(file, ''), replace(coalesce(error, ''), E'\n', ' ')
			FROM status ORDER BY 1" >"$work/status.txt"; then
		fail "$round: status.csv loads with COPY ... (FORMAT csv, HEADER match)"
		: >"$work/status.txt"
	fi
}

# expect_csv NAME SQL: NAME.csv equals COPY (SQL).
expect_csv() {
	copy_csv "$2" "$exp/$1.csv" || die "reference COPY for $1 failed"
	assert_files_equal "$exp/$1.csv" "$out/$1.csv" "$round: $1.csv equals COPY"
}

# run_round EXIT MESSAGE NCHECKS: `once` exits EXIT; then the status.csv-wide
# checks that hold after every round.
run_round() {
	local n bad
	run_once "$conf" "$1" "$round: $2"
	assert_file_exists "$out/status.csv" "$round: status.csv written"
	assert_eq "check,severity,state,rows,duration_ms,started_at,file,error,since" \
		"$(head -n 1 "$out/status.csv")" "$round: status.csv header"
	load_status
	assert_eq "$3" "$(wc -l <"$work/status.txt")" "$round: one status row per check"
	n=$(status_sql "$out" "SELECT count(*) FROM status
		WHERE CASE WHEN started_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z\$'
		           THEN started_at::timestamptz NOT BETWEEN now() - interval '10 minutes'
		                                               AND now() + interval '1 minute'
		           ELSE true END
		   OR duration_ms IS NULL OR duration_ms < 0") || n="(status.csv unreadable)"
	assert_eq 0 "$n" "$round: started_at is ISO 8601 UTC with ms, recent; duration_ms >= 0"
	bad=$(awk -F'|' '$2 != "error" && $6 != "" { print $1 }' "$work/status.txt")
	assert_eq "" "$bad" "$round: error column empty unless state is error"
	bad=$(awk -F'|' '$2 == "findings" && $5 !~ ("(^|/)" $1 "\\.csv$") { print $1 }' "$work/status.txt")
	assert_eq "" "$bad" "$round: file column names <check>.csv for findings"
	bad=$(awk -F'|' '$2 == "ok" && $5 != "" { print $1 }' "$work/status.txt")
	assert_eq "" "$bad" "$round: file column empty when there is no file"
	assert_eq 640 "$(stat -c %a "$out/status.csv")" "$round: status.csv mode 0640 under umask 022"
	assert_no_tmp_files "$out" "$round: no .*.tmp file left"
}

q_inv="SELECT 'inventory' AS item, 1 AS n, NULL AS nothing, '' AS empty"
q_rows="SELECT g AS id, 'row, ' || g AS label FROM generate_series(1, 3) g"
q_none="SELECT 1 AS x WHERE false"
q_warn="SELECT 'warn' AS w, 2 AS level"
q_crit="SELECT 'crit' AS c, 3 AS level"

# ---- round 1: only info findings -> exit 0 --------------------------------
new_round round1 inv info "$q_inv" goes_empty info "$q_rows" warn_empty warning "$q_none" \
	crit_empty critical "SELECT relname FROM pg_class WHERE relname = 'no such'"
# A stale temp file from a crashed run, and a file that is not pghealthd's.
: >"$out/.stale.csv.tmp"
echo keep >"$out/notes.txt"
run_round 0 "info findings only" 4
expect_status inv findings 1
expect_status goes_empty findings 3
expect_status warn_empty ok 0
expect_status crit_empty ok 0
expect_csv inv "$q_inv"
expect_csv goes_empty "$q_rows"
assert_file_absent "$out/warn_empty.csv" "$round: no file for an empty result"
assert_file_absent "$out/crit_empty.csv" "$round: no file for an empty result (critical)"
assert_eq 640 "$(stat -c %a "$out/inv.csv")" "$round: inv.csv mode 0640 under umask 022"
assert_file_absent "$out/.stale.csv.tmp" "$round: stale temp file removed at start"
assert_file_exists "$out/notes.txt" "$round: unrelated file left alone"
assert_eq "inv|info" "$(awk -F'|' '$1 == "inv" { print $1 "|" $4 }' "$work/status.txt")" \
	"$round: severity column"
assert_eq "warn_empty|warning" "$(awk -F'|' '$1 == "warn_empty" { print $1 "|" $4 }' "$work/status.txt")" \
	"$round: severity column (warning)"

# ---- round 2: the same check now returns nothing -> its file goes --------
new_round round2 inv info "$q_inv" goes_empty info "${q_rows/generate_series(1, 3)/generate_series(1, 0)}" \
	warn_empty warning "$q_none" crit_empty critical "$q_none"
run_round 0 "check became empty" 4
assert_file_absent "$out/goes_empty.csv" "$round: stale goes_empty.csv removed"
expect_status goes_empty ok 0
expect_status inv findings 1
expect_csv inv "$q_inv"

# ---- round 3: a warning finding -> exit 1 --------------------------------
new_round round3 inv info "$q_inv" warn warning "$q_warn" crit_empty critical "$q_none"
run_round 1 "warning finding" 3
expect_status warn findings 1
expect_status crit_empty ok 0
expect_csv warn "$q_warn"

# ---- round 4: warning and critical findings -> exit 2 --------------------
new_round round4 inv info "$q_inv" warn warning "$q_warn" crit critical "$q_crit"
run_round 2 "critical finding" 3
expect_status warn findings 1
expect_status crit findings 1
expect_csv crit "$q_crit"
expect_csv warn "$q_warn"

# ---- round 5: failing checks -> exit 3, the others unaffected -------------
rm -f "$out"/*.csv
new_round round5 inv info "$q_inv" bad_sql info "SELEC 1" rows info "$q_rows" \
	div_zero warning "SELECT 1 / 0 AS x" \
	partial info "SELECT g, 10 / (g - 3) AS q FROM generate_series(1, 5) g" \
	empty info "$q_none"
# partial fails after streaming two rows: its partial result must not appear.
run_round 3 "failing checks make the round UNKNOWN" 6
expect_status inv findings 1
expect_status rows findings 3
expect_status empty ok 0
expect_csv inv "$q_inv"
expect_csv rows "$q_rows"
assert_file_absent "$out/bad_sql.csv" "$round: no file for a failed check"
assert_file_absent "$out/div_zero.csv" "$round: no file for a failed check (division)"
assert_file_absent "$out/partial.csv" "$round: no partial file for a check failing mid-result"
for c in bad_sql div_zero partial; do
	assert_eq error "$(awk -F'|' -v c="$c" '$1 == c { print $2 }' "$work/status.txt")" \
		"$round: $c state is error"
done
assert_contains "$(awk -F'|' '$1 == "bad_sql" { print $6 }' "$work/status.txt")" \
	'syntax error at or near "SELEC"' "$round: bad_sql error column has the server's message"
assert_contains "$(awk -F'|' '$1 == "div_zero" { print $6 }' "$work/status.txt")" \
	'division by zero' "$round: div_zero error column has the server's message"
assert_contains "$(awk -F'|' '$1 == "partial" { print $6 }' "$work/status.txt")" \
	'division by zero' "$round: partial error column has the server's message"

# ---- round 6: the failures are gone, the next round is clean --------------
new_round round6 inv info "$q_inv" bad_sql info "SELECT 1 AS fixed"
run_round 0 "a fixed check recovers" 2
expect_status bad_sql findings 1
expect_csv bad_sql "SELECT 1 AS fixed"

finish
