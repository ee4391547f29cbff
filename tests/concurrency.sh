#!/bin/bash
# Concurrency and the pool bound: 20 checks of `SELECT pg_sleep(0.1), 1` on
# a pool of max_connections = 5 finish in one round well under the serial
# 2 s (ideal 0.4 s; the bound is 0.8 s times $PGH_SLOW), while a sampler inside the server
# watches pg_stat_activity every ~20 ms: the number of pghealthd sessions
# never exceeds 5 and is above 1 at some point.
#
# Run: PGHEALTHD=build/pghealthd tests/with-pg.sh tests/concurrency.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/lib.sh"
require_env

work=$PGH_TEST_TMP/concurrency
out=$work/out
mkdir -p "$out"
nchecks=20
pool=5
limit_ms=$(slow_ms "${PGH_CONCURRENCY_LIMIT_MS:-800}")

conf=$work/pghealthd.ini
{
	cat <<EOF
[target]
conninfo = host='$PGHOST' port=$PGPORT dbname=$PGDATABASE user=$PGUSER
application_name = pghealthd
timezone = UTC

[pool]
max_connections = $pool

[run]
output_dir = $out
fsync = false
EOF
	for i in $(seq -w 1 "$nchecks"); do
		printf '\n[check:sleep_%s]\nsql = SELECT pg_sleep(0.1), 1\nseverity = info\n' "$i"
	done
} >"$conf"

# The sampler runs in one server session, so sampling costs no process
# starts: it re-reads pg_stat_activity (pg_stat_clear_snapshot) every 20 ms
# until a row appears in sampler_stop, and returns the maximum and the
# number of samples.
pgsql >/dev/null <<'EOF' || die "sampler setup failed"
CREATE TABLE sampler_stop (x int);
CREATE FUNCTION sample_pghealthd(max_seconds float8, OUT max_seen int, OUT samples int)
LANGUAGE plpgsql AS $$
DECLARE
    n int;
    t0 timestamptz := clock_timestamp();
BEGIN
    max_seen := 0;
    samples := 0;
    LOOP
        PERFORM pg_stat_clear_snapshot();
        SELECT count(*) INTO n FROM pg_stat_activity WHERE application_name = 'pghealthd';
        max_seen := greatest(max_seen, n);
        samples := samples + 1;
        EXIT WHEN EXISTS (SELECT 1 FROM sampler_stop)
            OR clock_timestamp() - t0 > make_interval(secs => max_seconds);
        PERFORM pg_sleep(0.02);
    END LOOP;
END
$$;
EOF

# Count the sessions the server authorizes for pghealthd during the round.
pgsql -c "ALTER SYSTEM SET log_connections = on" -c "SELECT pg_reload_conf()" >/dev/null ||
	die "could not enable log_connections"
log=$PGH_FIXTURE_DIR/server.log
log_lines_before=$(wc -l <"$log")

pgsql -F' ' -c "SELECT * FROM sample_pghealthd(60)" >"$work/sampler.out" 2>&1 &
sampler=$!
# Wait until the sampler runs.
for _ in $(seq 1 100); do
	running=$(pgsql -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%sample_pghealthd(60)%' AND pid <> pg_backend_pid()") ||
		running=0
	[ "$running" -ge 1 ] && break
	sleep 0.05
done

run_once "$conf" 0 "$nchecks checks of 0.1 s on a pool of $pool"
wall=$pgh_wall_ms

pgsql -c "INSERT INTO sampler_stop VALUES (1)" || fail "could not stop the sampler"
wait "$sampler" || fail "sampler failed: $(cat "$work/sampler.out")"
read -r max_seen samples <"$work/sampler.out" || true
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
