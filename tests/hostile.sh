#!/usr/bin/env bash
# Hostile input and a hostile output directory:
#   - check names: only [A-Za-z0-9_.-], never a path, a hidden file or a
#     name pghealthd itself writes (status.csv);
#   - SQL of any length (a 1 MB sql_file), and a too large one refused;
#   - binary garbage as the configuration (random bytes, NULs, /dev/zero):
#     exit 78 with file:line, never a crash;
#   - a single 100 MB value streams: the file equals COPY's (size and
#     checksum) and the peak RSS stays under 3x the value;
#   - planted symlinks (temp files .<name>.tmp, final files, history
#     directories) are never followed, before a run and while a daemon runs;
#   - a server refusing every login: the pool's backoff doubles per failed
#     attempt round, not per connection of the round;
#   - output files are 0640 and a created output_dir 0750 (umask 022).
#
# Run alone: meson test -C build hostile
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/hostile.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup hostile /usr/bin/time
umask 022

# hostile_config FILE OUTDIR: the common sections (11 lines: a check appended
# with a blank line before it starts at line 13), checks are appended.
hostile_config() {
	new_config "$1" "$2" max_connections=3 interval=1s
}

# expect_config_error LABEL CONFIG: `once` exits 78 (not a crash) and
# every message line names file:line or file.
expect_config_error() {
	local rc=0 err
	pgh -c "$2" once >"$2.stdout" 2>"$2.stderr" || rc=$?
	err=$(cat "$2.stderr")
	assert_eq 78 "$rc" "$1: exit 78"
	assert_match "^$2(:[0-9]+)?: " "$err" "$1: the message starts with file:line"
	assert_eq "" "$(grep -av "^$2\\(:[0-9]*\\)\\?: " "$2.stderr" | head -n 3)" \
		"$1: every message line names the file"
}

# ---- check names ---------------------------------------------------------------
out=$work/names-out
# shellcheck disable=SC2016 # a literal $ in a name
for name in '../x' 'a/b' '/abs' '.' '..' 'sp ace' 'semi;colon' 'tab	x' 'dollar$x' "quote'x" 'star*'; do
	conf=$work/name.ini
	hostile_config "$conf" "$out"
	printf '\n[check:%s]\nsql = SELECT 1 AS x\n' "$name" >>"$conf"
	expect_config_error "check name [$name]" "$conf"
	assert_contains "$(cat "$conf.stderr")" "$conf:13: bad check name" "check name [$name]: the error says bad check name at its line"
done
assert_file_absent "$work/x.csv" "no file written outside output_dir"

# Names starting with '.' would be hidden files in output_dir, where the
# dot-files are pghealthd's temp files (.<name>.tmp, removed at start); and
# "status" would publish its findings as status.csv, over the round's.
for name in '.hidden' '..x' 'status'; do
	conf=$work/name.ini
	hostile_config "$conf" "$out"
	printf '\n[check:%s]\nsql = SELECT 1 AS x\n' "$name" >>"$conf"
	rc=0
	pgh -c "$conf" check-config >"$conf.stdout" 2>"$conf.stderr" || rc=$?
	assert_eq 78 "$rc" "check name [$name] is refused"
done
# A configuration naming such a check is refused as a whole, with file:line,
# so nothing can ever be written over status.csv.
rm -rf "$out"
conf=$work/hidden.ini
hostile_config "$conf" "$out"
printf '\n[check:.hidden]\nsql = SELECT 1 AS x\n\n[check:status]\nsql = SELECT 2 AS y\n' >>"$conf"
rc=0
pgh -c "$conf" once >"$conf.stdout" 2>"$conf.stderr" || rc=$?
assert_eq 78 "$rc" "[check:.hidden] and [check:status]: once exits 78"
assert_contains "$(cat "$conf.stderr")" "hidden.ini:13: bad check name '.hidden'" \
	"the hidden name is refused at its line"
assert_contains "$(cat "$conf.stderr")" "hidden.ini:16: bad check name 'status'" \
	"'status' is refused at its line"
assert_file_absent "$out/status.csv" "nothing written for a refused configuration"

# ---- SQL of any length ----------------------------------------------------------
out=$work/sql-out
conf=$work/sql.ini
hostile_config "$conf" "$out"
{
	printf 'SELECT 1 AS x /* '
	head -c $((1024 * 1024)) /dev/zero | tr '\0' 'c'
	printf ' */\n'
} >"$work/one-mb.sql"
printf '\n[check:one_mb]\nsql_file = one-mb.sql\n' >>"$conf"
run_once "$conf" 0 "a 1 MB sql_file"
assert_eq "x|1" "$(tr '\n' '|' <"$out/one_mb.csv" | sed 's/|$//')" "the 1 MB statement ran: one_mb.csv is x,1"
# Over the 16 MB cap: refused at its line, nothing read into memory beyond it.
{
	printf 'SELECT 1 AS x /* '
	head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' 'c'
	printf ' */\n'
} >"$work/huge.sql"
conf=$work/huge.ini
hostile_config "$conf" "$out"
printf '\n[check:huge]\nsql_file = huge.sql\n' >>"$conf"
expect_config_error "a 17 MB sql_file" "$conf"
assert_contains "$(cat "$conf.stderr")" "$conf:14: sql_file" "a 17 MB sql_file: the error names the sql_file line"
# An inline value on one line longer than 1 MB: refused, not cut.
conf=$work/longline.ini
hostile_config "$conf" "$out"
{
	printf '\n[check:long]\nsql = SELECT 1 AS x /* '
	head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'c'
	printf ' */\n'
} >>"$conf"
expect_config_error "a 1 MB+ line" "$conf"
assert_contains "$(cat "$conf.stderr")" "$conf:14: line too long" "a 1 MB+ line: line too long at its line"

# ---- binary garbage as the configuration -----------------------------------------
for i in 1 2 3 4 5; do
	conf=$work/garbage-$i.ini
	head -c $((i * 3000)) /dev/urandom >"$conf"
	expect_config_error "random bytes ($i)" "$conf"
done
conf=$work/nuls.ini
head -c 5000 /dev/zero >"$conf"
expect_config_error "only NUL bytes" "$conf"
conf=$work/nul-in-line.ini
hostile_config "$conf" "$work/nul-out"
printf '\n[check:x]\nsql = SELECT 1\0 AS x\n' >>"$conf"
expect_config_error "a NUL inside a value" "$conf"
assert_contains "$(cat "$conf.stderr")" "$conf:14: NUL byte" "a NUL inside a value: named at its line"
conf=$work/garbage-tail.ini
hostile_config "$conf" "$work/nul-out"
printf '\n[check:x]\nsql = SELECT 1\n' >>"$conf"
head -c 2000 /dev/urandom >>"$conf"
expect_config_error "valid lines, then random bytes" "$conf"
rc=0
t0=$(now_ms)
pgh -c /dev/zero once >"$work/zero.stdout" 2>"$work/zero.stderr" || rc=$?
assert_eq 78 "$rc" "-c /dev/zero: exit 78"
assert_le $(($(now_ms) - t0)) "$(slow_ms 20000)" "-c /dev/zero: gives up in bounded time"
assert_contains "$(cat "$work/zero.stderr")" "/dev/zero" "-c /dev/zero: the message names the file"

# ---- a single 100 MB value --------------------------------------------------------
out=$work/big-out
conf=$work/big.ini
hostile_config "$conf" "$out"
printf '\n[check:big]\nsql = SELECT repeat(%s, 100 * 1024 * 1024) AS big\ntimeout = 5m\n' "'x'" >>"$conf"
pgh_set_cmd
rc=0
# Peak RSS without meson's MALLOC_PERTURB_: glibc would fill every fresh
# allocation, touching pages (libpq's input buffer is rounded up) that a
# real run never touches.
env -u MALLOC_PERTURB_ /usr/bin/time -v -o "$work/big.time" "${PGH_CMD[@]}" -c "$conf" once \
	>"$work/big.stdout" 2>"$work/big.stderr" || rc=$?
assert_eq 0 "$rc" "100 MB value: once exits 0"
[ "$rc" -eq 0 ] || tail -n 20 "$work/big.stderr" | sed 's/^/#   /'
value=$((100 * 1024 * 1024))
assert_eq $((value + 4 + 1)) "$(stat -c %s "$out/big.csv" 2>/dev/null || echo missing)" \
	"100 MB value: big.csv is the header, the value and a newline"
copy_csv "SELECT repeat('x', 100 * 1024 * 1024) AS big" "$work/big-expected.csv" ||
	die "reference COPY failed"
assert_eq "$(sha256sum <"$work/big-expected.csv" | cut -c 1-64)" \
	"$(sha256sum <"$out/big.csv" | cut -c 1-64)" "100 MB value: big.csv has COPY's checksum"
rm -f "$work/big-expected.csv"
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/big.time")
echo "figures: one 100 MB value: pghealthd once peak RSS ${rss:-?} kB ($(awk -v r="${rss:-0}" -v v="$value" 'BEGIN { printf "%.2f", r * 1024 / v }')x the value)"
assert_match '^[0-9]+$' "${rss:-}" "100 MB value: peak RSS measured"
if [ -n "$PGH_WRAPPER" ]; then
	echo "# PGH_WRAPPER is set: the peak RSS bound is not checked"
elif [[ ${rss:-} =~ ^[0-9]+$ ]]; then
	# libpq holds a row twice (its input buffer and the PGresult) and the
	# CSV writer once more, encoded: about 3x, whatever else is going on.
	assert_le "$rss" "$(rss_kb $((13 * value / 4 / 1024)))" \
		"100 MB value: peak RSS ${rss} kB < 3.25x the value"
fi
rm -rf "$out"

# ---- planted symlinks -----------------------------------------------------------------
outside=$work/outside
mkdir -p "$outside/keep"
for f in victim victim-status victim-prom victim-final victim-empty; do
	echo "precious $f" >"$outside/$f"
done
for i in 1 2 3; do
	echo "old $i" >"$outside/keep/2000010${i}T000000Z.csv"
done
snapshot_outside() {
	(cd "$outside" && find . -printf '%p %s %T@ %y\n' | sort && cat ./victim*)
}
before=$(snapshot_outside)

out=$work/links-out
conf=$work/links.ini
hostile_config "$conf" "$out"
cat >>"$conf" <<EOF
history = 0
prometheus_file = pghealthd.prom

[check:who]
sql = SELECT 'finding' AS what

[check:empty]
sql = SELECT 1 AS x WHERE false
EOF
# Before a run: temp files and final files as links.
mkdir -p "$out"
ln -s "$outside/victim" "$out/.who.csv.tmp"
ln -s "$outside/victim-status" "$out/.status.csv.tmp"
ln -s "$outside/victim-prom" "$out/.pghealthd.prom.tmp"
ln -s "$outside/victim-final" "$out/who.csv"
ln -s "$outside/victim-empty" "$out/empty.csv"
run_once "$conf" 0 "links planted before a run: the round is clean"
assert_eq "$before" "$(snapshot_outside)" "links planted before a run: nothing outside output_dir changed"
for f in .who.csv.tmp .status.csv.tmp .pghealthd.prom.tmp; do
	assert_file_absent "$out/$f" "stale temp link $f removed (the link, not its target)"
done
if [ -f "$out/who.csv" ] && [ ! -L "$out/who.csv" ]; then
	ok "who.csv replaced the planted link with a regular file"
else
	fail "who.csv is not a regular file after the round"
fi
assert_file_absent "$out/empty.csv" "empty.csv (a link) removed for an empty result, not followed"

# While a daemon runs (a round every second): plant them between rounds.
rm -rf "$out"
start_daemon "$conf" "$work/links-daemon.log"
round_seen() { [ -f "$out/status.csv" ] && [ -f "$out/pghealthd.prom" ]; }
for _ in $(seq 1 "$(slow_ms 100)"); do
	round_seen && break
	sleep 0.05
done
round_seen || fail "the daemon wrote no status.csv"
planted=0
for _ in $(seq 1 20); do
	for f in who.csv status.csv pghealthd.prom; do
		ln -s "$outside/victim" "$out/.$f.tmp" 2>/dev/null && planted=$((planted + 1))
	done
	ln -sfn "$outside/victim-final" "$out/who.csv.new" && mv -T "$out/who.csv.new" "$out/who.csv"
	ln -sfn "$outside/victim-empty" "$out/empty.csv.new" && mv -T "$out/empty.csv.new" "$out/empty.csv"
	sleep 0.2
done
sleep "$(awk -v f="$PGH_SLOW" 'BEGIN { print 1.5 * f }')"
alive_now=0
kill -0 "$dpid" 2>/dev/null && alive_now=1
assert_eq 1 "$alive_now" "the daemon survives links planted between rounds"
kill -TERM "$dpid" 2>/dev/null || true
rc=0
wait "$dpid" || rc=$?
assert_eq 0 "$rc" "daemon with planted links: SIGTERM -> exit 0"
echo "# planted $planted temp-file links while the daemon ran: $(grep -c 'File exists' "$work/links-daemon.log" || true) 'File exists' errors logged"
assert_eq "$before" "$(snapshot_outside)" "links planted while the daemon runs: nothing outside output_dir changed"

# History: history/<check> (or history itself) planted as a link to another
# directory must not get files linked into it, nor have files pruned in it.
for which in check-dir history-dir; do
	out=$work/history-$which-out
	conf=$work/history-$which.ini
	hostile_config "$conf" "$out"
	printf 'history = 1\n\n[check:who]\nsql = SELECT 1 AS x\n' >>"$conf"
	mkdir -p "$out"
	if [ "$which" = check-dir ]; then
		mkdir -p "$out/history"
		ln -s "$outside/keep" "$out/history/who"
	else
		mkdir -p "$outside/hist"
		ln -s "$outside/keep" "$outside/hist/who"
		ln -s "$outside/hist" "$out/history"
	fi
	before=$(snapshot_outside)
	rc=0
	pgh -c "$conf" once >"$conf.stdout" 2>"$conf.stderr" || rc=$?
	echo "# history link ($which): once exits $rc; $outside/keep now holds: $(find "$outside/keep" -mindepth 1 -printf '%f ')"
	assert_eq "$before" "$(snapshot_outside)" \
		"history link ($which): no file added to or pruned from the link's target"
done

# ---- a server that refuses every login ----------------------------------------------
# The pool backs off 250 ms, doubling per failed attempt, up to 30 s.  When
# max_connections attempts fail together, that is one failed attempt, not
# max_connections of them: five refused logins at once must not turn the
# next wait into 2-4 s (250 ms * 2^4), and the one after into 15-30 s.
out=$work/refused-out
conf=$work/refused.ini
new_config "$conf" "$out" "conninfo=host='$PGHOST' port=$PGPORT dbname=$PGDATABASE user=no_such_role" \
	timezone= max_connections=5 interval=1s
for i in 1 2 3 4 5; do
	printf '[check:c%s]\nsql = SELECT %s\n' "$i" "$i" >>"$conf"
done
start_daemon "$conf" "$work/refused.log"
sleep 5
kill -TERM "$dpid" 2>/dev/null || true
wait "$dpid" || true
# Attempt rounds: failures more than 50 ms apart start a new one.
rounds=$(grep -a 'connection failed' "$work/refused.log" |
	awk '{ split($2, t, ":"); ms = (t[1] * 3600 + t[2] * 60 + t[3]) * 1000;
	       if (NR == 1 || ms - last > 50) n++; last = ms } END { print n + 0 }')
failures=$(grep -ac 'connection failed' "$work/refused.log" || true)
assert_contains "$(cat "$work/refused.log")" 'role "no_such_role" does not exist' \
	"refused logins: the log says why"
echo "# refused logins: $failures failed connections in $rounds attempt rounds over 5 s"
assert_le 4 "$rounds" "refused logins: at least 4 attempt rounds in 5 s (backoff 250 ms doubling per round)"

# ---- modes under umask 022 ---------------------------------------------------------
out=$work/modes/a/b/out
conf=$work/modes.ini
hostile_config "$conf" "$out"
printf 'history = 3\nprometheus_file = pghealthd.prom\n\n[check:who]\nsql = SELECT 1 AS x\n' >>"$conf"
run_once "$conf" 0 "modes: a round into a new nested output_dir"
for d in "$work/modes/a" "$work/modes/a/b" "$out" "$out/history" "$out/history/who"; do
	assert_eq 750 "$(stat -c %a "$d" 2>/dev/null || echo missing)" "modes: created directory ${d#"$work"/} is 0750"
done
for f in "$out/status.csv" "$out/who.csv" "$out/pghealthd.prom" "$out"/history/who/*.csv; do
	assert_eq 640 "$(stat -c %a "$f" 2>/dev/null || echo missing)" "modes: ${f#"$work"/} is 0640"
done

finish
