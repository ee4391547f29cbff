#!/bin/bash
# database_growth at its defaults against a real server: a database that
# grows by 20 % and 100 MiB between two runs is found, once; a quiet one,
# the first run and a restart are not; max_bytes, a per-check setting,
# reports a database past a size.  relation_size, at its default of 100
# GiB: a table whose files the server counts as 100 GiB (segments of 1 GiB
# made as sparse files, which take no disk: the server measures sizes with
# stat, as it does every table's), and a 140 MB one past a lowered max_bytes.
#
# Run alone: meson test -C build packs_size
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_size.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_size

pg_pack_setup

pgsql -c "CREATE DATABASE pgh_grow" >/dev/null || die "CREATE DATABASE failed"
round=first
run_once "$conf" 0 "$round: no warning"
assert_eq ok "$(pack_state database_growth)" "$round: the first run only takes the sizes"
"$PGH_FIXTURE" restart "$PGH_FIXTURE_DIR" >/dev/null || die "restart failed"
round=quiet
run_once "$conf" 0 "$round: after a restart, nothing grew: no warning"
assert_eq ok "$(pack_state database_growth)" "$round: database_growth is healthy"

round=grown
pgsql -d pgh_grow -c "CREATE TABLE pgh_big AS SELECT g, repeat('x', 100) AS pad
	FROM generate_series(1, 1000000) g" >/dev/null || die "filling pgh_grow failed"
run_once "$conf" 1 "$round: a warning"
assert_eq findings "$(pack_state database_growth)" "$round: database_growth finds 100+ MiB of growth at its defaults"
assert_contains "$(cat "$out/database_growth.csv" 2>/dev/null)" "pgh_grow," "$round: the database is named"
round=grown-once
run_once "$conf" 0 "$round: the next run, no more growth: no warning"
assert_eq ok "$(pack_state database_growth)" "$round: the growth is reported once"

# lowered CHECK SETTING VALUE: one round of the pack with that threshold
# lowered; the check must have findings.
lowered() {
	pack_config "$work/$1.ini" "$PGUSER" "$PGDATABASE" "$out" "SET pghealthd.$1.$2 = $3"
	run_once "$work/$1.ini" 1 "$round: a warning"
	assert_eq findings "$(pack_state "$1")" "$round: $1 finds its problem past $2 = $3"
}
round=max_bytes
lowered database_growth max_bytes 52428800
assert_contains "$(cat "$out/database_growth.csv" 2>/dev/null)" "pgh_grow," "$round: it is named"
csv=$(cat "$out/database_growth.csv")
assert_eq 1 "$(grep -c '^pgh_grow,' <<<"$csv")" "$round: one row for it"

# ---- relation_size ------------------------------------------------------------
round=relation-small
run_once "$conf" 0 "$round: a 140 MB table is no warning at the default"
assert_eq ok "$(pack_state relation_size)" "$round: relation_size is healthy"
round=relation-limit
lowered relation_size max_bytes 104857600
assert_contains "$(cat "$out/relation_size.csv" 2>/dev/null)" "pgh_grow,public,pgh_big,table," "$round: named, with its database"

round=relation-huge
pgsql -d pgh_grow -c "CREATE TABLE pgh_huge (x int)" -c "INSERT INTO pgh_huge VALUES (1)" \
	-c "CHECKPOINT" >/dev/null || die "pgh_huge failed"
file=$PGH_FIXTURE_DIR/data/$(pgsql -d pgh_grow -c "SELECT pg_relation_filepath('pgh_huge')")
owner=$(stat -c %U "$file")
for ((i = 1; i <= 100; i++)); do
	truncate -s 1G "$file.$i"
	chown "$owner" "$file.$i"
done
run_once "$conf" 1 "$round: a warning"
assert_eq findings "$(pack_state relation_size)" "$round: relation_size finds a 100 GiB table at its default"
csv=$(cat "$out/relation_size.csv" 2>/dev/null)
assert_contains "$csv" "pgh_grow,public,pgh_huge,table,107374190592,100 GB," "$round: named, with its size"
assert_eq 1 "$(grep -c ',pgh_' <<<"$csv")" "$round: and only it"
pgsql -d pgh_grow -c "DROP TABLE pgh_huge" >/dev/null || die "DROP TABLE failed"
[ ! -e "$file.1" ] || die "DROP TABLE left the segments"
round=relation-dropped
run_once "$conf" 0 "$round: no warning"
assert_eq ok "$(pack_state relation_size)" "$round: relation_size is healthy"

finish
