#!/bin/bash
# Concurrency and the pool bound: 20 checks of `SELECT pg_sleep(0.1), 1` on
# a pool of max_connections = 5 finish in one round well under the serial
# 2 s (ideal 0.4 s; the bound is 0.8 s times $PGH_SLOW), while a sampler inside the server
# watches pg_stat_activity every ~20 ms: the number of pghealthd sessions
# never exceeds 5 and is above 1 at some point.
#
# Run alone: meson test -C build concurrency
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/concurrency.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup concurrency

out=$work/out
mkdir -p "$out"
nchecks=20
pool=5
limit_ms=$(slow_ms "${PGH_CONCURRENCY_LIMIT_MS:-800}")

conf=$work/pghealthd.ini
new_config "$conf" "$out" application_name=pghealthd max_connections=$pool
for i in $(seq -w 1 "$nchecks"); do
	printf '\n[check:sleep_%s]\nsql = SELECT pg_sleep(0.1), 1\nseverity = info\n' "$i"
done >>"$conf"

# Count the sessions the server authorizes for pghealthd during the round.
pgsql -c "ALTER SYSTEM SET log_connections = on" -c "SELECT pg_reload_conf()" >/dev/null ||
	die "could not enable log_connections"
log=$PGH_FIXTURE_DIR/server.log
log_lines_before=$(wc -l <"$log")

# The sampler (daemon-lib.sh) runs in one server session, every 20 ms.
sampler_start round 60 pghealthd '%' "$work/sampler.out"

run_once "$conf" 0 "$nchecks checks of 0.1 s on a pool of $pool"
wall=$pgh_wall_ms

sampler_stop round "$work/sampler.out"
max_seen=$(sample_max "$work/sampler.out" 2)
samples=$(awk 'NF == 3' "$work/sampler.out" | wc -l)
[ "$samples" -gt 0 ] || max_seen=""
echo "# round wall time: ${wall} ms (ideal 400, limit $limit_ms)"
echo "# max concurrent pghealthd sessions seen: ${max_seen:-?} in ${samples:-?} samples"

assert_le "$wall" "$((limit_ms - 1))" "round wall time ${wall} ms < ${limit_ms} ms"
assert_match '^[0-9]+$' "${max_seen:-}" "sampler returned a maximum"
if [[ ${max_seen:-} =~ ^[0-9]+$ ]]; then
	assert_le "$max_seen" "$pool" "at most $pool pghealthd sessions at once (saw $max_seen)"
	assert_le 2 "$max_seen" "more than one session at once (saw $max_seen)"
fi

sessions=$(tail -n +"$((log_lines_before + 1))" "$log" |
	grep -c 'connection authorized: .*application_name=pghealthd' || true)
echo "# pghealthd sessions opened during the round: $sessions"
assert_le "$sessions" "$pool" "the round opened at most $pool sessions"

# Every check reported its one row, every file is COPY's.
n=$(status_sql "$out" "SELECT count(*) FROM status WHERE state = 'findings' AND rows = 1") ||
	n="(status.csv unreadable)"
assert_eq "$nchecks" "$n" "all $nchecks checks have state findings with 1 row"
copy_csv "SELECT pg_sleep(0.1), 1" "$work/expected.csv" || die "reference COPY failed"
same=0
for f in "$out"/sleep_*.csv; do
	cmp -s "$work/expected.csv" "$f" && same=$((same + 1))
done
assert_eq "$nchecks" "$same" "all $nchecks CSV files equal COPY"
assert_no_tmp_files "$out"
finish
