#!/bin/bash
# The pack's maintenance and storage checks at their defaults, each just
# short of it (no finding) and just past it, on a server whose clock is moved
# forward (libfaketime, as in packs_defaults) and whose autovacuum launcher is
# stopped (SIGSTOP: autovacuum starved, as a busy or blocked one is):
#
#   vacuum_overdue, analyze_overdue  last vacuum / analyze 59, then 61 min ago
#   unused_indexes                   a 13 MiB index, statistics 6, then 7 days old
#   table_bloat_estimate             105 MiB at 45 %, 94 MiB at 60 %; then 55 %
#   cache_hit_ratio                  960 000 blocks at 94 %, then 1 000 000;
#                                    95.5 %, then 94.5 %
# and, autovacuum off (its check fires from there on), the counters moved with
# pg_resetwal:
#   tables_near_freeze_max_age       99 % then 101 % of a table's
#                                    autovacuum_freeze_max_age
#   multixact_wraparound             49.99 %, then 50.01 % of the multixacts
#   replication_slot_retained_wal    a slot 10 GiB less a little, then 10 GiB
#                                    and a segment behind
# and checksum_failures: a page damaged on disk, data checksums on.
#
# Run alone: meson test -C build packs_defaults_storage
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_defaults_storage.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_defaults_storage

pg_pack_setup
faked_server_setup

launcher=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher'")
[ -n "$launcher" ] || die "no autovacuum launcher in pg_stat_activity"
kill -STOP "$launcher"
frozen_pids+=("$launcher")
# The tables, made before the first round: their writes (and the temporary
# files of generate_series) are no database_growth or temp_files finding.
# Each is analyzed by a session of its own, once the writer's counts have
# reached the statistics (a session sends them at most once a second).
analyzed() { # TABLE...
	sleep 1
	pgsql -c "VACUUM ANALYZE $(IFS=,; echo "$*")" >/dev/null || die "VACUUM ANALYZE $* failed"
}
# An index nobody scans, of 13 MiB (unused_indexes: min_bytes 10 MiB).
pgsql -c "CREATE UNLOGGED TABLE pgh_idx AS SELECT g AS id FROM generate_series(1, 600000) AS g" \
	-c "CREATE INDEX pgh_idx_id ON pgh_idx (id)" >/dev/null || die "the index failed"
# table_bloat_estimate (min_bloat_bytes 100 MiB, min_bloat_pct 50): rows of
# 1 kB, deleted across every page so that VACUUM truncates none: pgh_bloat_a (234 MiB) 45 % empty is past the size but short of the
# share, pgh_bloat_b (156 MiB) 60 % empty past the share, short of the size.
bloat_table() { # NAME ROWS KEEP: KEEP in 10 of its rows left
	pgsql -c "CREATE UNLOGGED TABLE IF NOT EXISTS $1 AS
			SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, $2) AS g" \
		-c "DELETE FROM $1 WHERE id % 20 >= 2 * $3" >/dev/null || die "$1 failed"
	analyzed "$1"
}
bloat_table pgh_bloat_a 210000 5.5
bloat_table pgh_bloat_b 140000 4
# cache_hit_ratio: a table that fits in shared_buffers, one past a quarter
# of it.
pgsql -c "CREATE TABLE pgh_hot AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, 1400) AS g" \
	-c "CREATE UNLOGGED TABLE pgh_cold AS SELECT g AS id, repeat('x', 1000) AS pad FROM generate_series(1, 35000) AS g" \
	>/dev/null || die "setup failed"
analyzed pgh_idx pgh_hot pgh_cold
assert_le 10485760 "$(q "SELECT pg_relation_size('pgh_idx_id')")" "setup: the index is over 10 MiB"
# The statistics of this database count from here (unused_indexes).
pgsql -c "SELECT pg_stat_reset()" >/dev/null || die "pg_stat_reset failed"

round=+0
run_once "$conf" 0 "$round: a fresh cluster; pgh_bloat_a 45 % of 234 MiB, pgh_bloat_b 60 % of 156 MiB"
assert_eq "" "$(findings)" "$round: no finding"

# ---- vacuum_overdue, analyze_overdue (min_age 1 hour) ---------------------------
# Vacuumed and analyzed at +0, then half the rows deleted: past the trigger
# of both (50 + 20 % and 50 + 10 % of 10 000 rows).
pgsql -c "CREATE TABLE pgh_vac (id int, pad text)" \
	-c "INSERT INTO pgh_vac SELECT g, 'x' FROM generate_series(1, 10000) AS g" \
	>/dev/null || die "setup failed"
analyzed pgh_vac
pgsql -c "DELETE FROM pgh_vac WHERE id % 2 = 0" >/dev/null || die "DELETE failed"
# No checkpoint_age finding when the clock moves: little WAL since the last.
pgsql -c "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"

round=+59min
move_clock 3540
run_once "$conf" 0 "$round: vacuumed and analyzed 59 minutes ago"
assert_eq "" "$(findings)" "$round: no finding"
round=+61min
move_clock 3660
run_once "$conf" 1 "$round: warnings"
assert_eq "analyze_overdue vacuum_overdue" "$(findings)" "$round: both fire past 1 hour"
assert_eq pgh_vac "$(pack_column vacuum_overdue table_name)" "$round: vacuum_overdue names the table"
assert_eq 5000 "$(pack_column vacuum_overdue n_dead_tup)" "$round: with its dead rows"
assert_eq pgh_vac "$(pack_column analyze_overdue table_name)" "$round: analyze_overdue names the table"
analyzed pgh_vac
pgsql -c "CHECKPOINT" >/dev/null || die "CHECKPOINT failed"

# ---- unused_indexes (min_stats_age 7 days; info) --------------------------------
unused() { status_sql "$out" "SELECT state FROM status WHERE \"check\" = 'unused_indexes'"; }
round=+6days
move_clock $((6 * 86400))
run_once "$conf" 0 "$round: statistics 6 days old"
assert_eq ok "$(unused)" "$round: unused_indexes waits for 7 days of statistics"
round=+7days
move_clock $((7 * 86400 + 3600))
run_once "$conf" 0 "$round: statistics over 7 days old (info)"
assert_eq findings "$(unused)" "$round: unused_indexes lists the index"
assert_eq pgh_idx_id "$(pack_column unused_indexes index_name)" "$round: by name"

round=bloat
bloat_table pgh_bloat_a 210000 4.5
run_once "$conf" 1 "$round: a warning"
assert_eq table_bloat_estimate "$(findings)" "$round: table_bloat_estimate fires"
assert_eq "pgh_bloat_a 1" "$(pack_column table_bloat_estimate table_name) $(($(wc -l <"$out/table_bloat_estimate.csv") - 1))" \
	"$round: on pgh_bloat_a alone ($(pack_column table_bloat_estimate bloat_pct) %, $(pack_column table_bloat_estimate bloat))"
pgsql -c "DROP TABLE pgh_bloat_a, pgh_bloat_b" >/dev/null || die "DROP failed"

# ---- cache_hit_ratio (min_blocks 1 000 000, min_ratio 0.95) ---------------------
# Hits: scans of pgh_hot, in shared_buffers; reads: scans of pgh_cold, past a
# quarter of it (read through a small ring of buffers every time).
pgsql -c "SELECT count(*) FROM pgh_hot" -c "SELECT pg_stat_reset()" >/dev/null || die "pg_stat_reset failed"
blocks() { q "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()"; }
ratio() {
	q "SELECT round(blks_hit::numeric / nullif(blks_hit + blks_read, 0), 4)
		FROM pg_stat_database WHERE datname = current_database()"
}
scan() { # TABLE TIMES
	pgsql -c "DO \$\$ BEGIN FOR i IN 1..$2 LOOP PERFORM count(*) FROM $1; END LOOP; END \$\$" >/dev/null ||
		die "the scans of $1 failed"
	sleep 0.5 # the session's counts, flushed
}
# pages TABLE: the blocks one scan of TABLE counts.
pages() { q "SELECT relpages FROM pg_class WHERE relname = '$1'"; }
# hits_to N: scans from the cache until the database counts N blocks;
# hits_over R: until its ratio is over R; reads_to R: scans read from outside
# until its ratio is R or under.  The first scans make most of the way.
hits_to() {
	local n
	while n=$(($1 - $(blocks))) && [ "$n" -gt 0 ]; do scan pgh_hot $((n / $(pages pgh_hot) + 1)); done
}
hits_over() {
	local n
	while [ "$(q "SELECT $(ratio) <= $1")" = t ]; do
		n=$(q "SELECT ceil(($1 * blks_read / (1 - $1) - blks_hit) / $(pages pgh_hot))::int + 1
			FROM pg_stat_database WHERE datname = current_database()")
		scan pgh_hot "$n"
	done
}
reads_to() {
	local n
	while [ "$(q "SELECT $(ratio) > $1")" = t ]; do
		n=$(q "SELECT greatest(floor((blks_hit / $1 - blks_hit - blks_read) / $(pages pgh_cold))::int, 1)
			FROM pg_stat_database WHERE datname = current_database()")
		scan pgh_cold "$n"
	done
}
round=blocks-short
hits_to 850000
reads_to 0.94
assert_le "$(blocks)" 990000 "setup: under 1 000 000 blocks"
run_once "$conf" 0 "$round: $(blocks) blocks, $(ratio) from the cache"
assert_eq "" "$(findings)" "$round: too few to judge: no finding"
round=blocks
hits_to 1000000
reads_to 0.94
run_once "$conf" 1 "$round: $(blocks) blocks, $(ratio) from the cache"
assert_eq cache_hit_ratio "$(findings)" "$round: cache_hit_ratio fires ($(pack_column cache_hit_ratio hit_ratio))"
round=ratio-short
hits_over 0.955
run_once "$conf" 0 "$round: $(blocks) blocks, $(ratio) from the cache"
assert_eq "" "$(findings)" "$round: no finding"
round=ratio
reads_to 0.945
run_once "$conf" 1 "$round: $(blocks) blocks, $(ratio) from the cache"
assert_eq cache_hit_ratio "$(findings)" "$round: cache_hit_ratio fires ($(pack_column cache_hit_ratio hit_ratio))"
pgsql -c "SELECT pg_stat_reset()" -c "DROP TABLE pgh_hot, pgh_cold" >/dev/null || die "cleanup failed"

# ---- the counters moved with pg_resetwal, autovacuum off ---------------------------
# Off, so that no anti-wraparound vacuum undoes them; autovacuum_disabled
# fires from here on.
kill -CONT "$launcher"
pgsql -c "ALTER SYSTEM SET autovacuum = off" \
	-c "ALTER SYSTEM SET autovacuum_multixact_freeze_max_age = 2000000000" >/dev/null ||
	die "ALTER SYSTEM failed"

# tables_near_freeze_max_age (min_ratio 1.0): a table whose own
# autovacuum_freeze_max_age is 100 000 transactions.
pgsql -c "CREATE TABLE pgh_freeze (id int) WITH (autovacuum_freeze_max_age = 100000)" \
	-c "VACUUM FREEZE pgh_freeze" >/dev/null || die "setup failed"
frozen=$(q "SELECT relfrozenxid::text::bigint FROM pg_class WHERE relname = 'pgh_freeze'")
round=freeze-short
next_xid $((frozen + 99000))
run_once "$conf" 1 "$round: $(q "SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'pgh_freeze'") xids old"
assert_eq autovacuum_disabled "$(findings)" "$round: no tables_near_freeze_max_age finding"
round=freeze
next_xid $((frozen + 101000))
run_once "$conf" 1 "$round: $(q "SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'pgh_freeze'") xids old"
assert_eq "autovacuum_disabled tables_near_freeze_max_age" "$(findings)" "$round: tables_near_freeze_max_age fires"
assert_eq pgh_freeze "$(pack_column tables_near_freeze_max_age table_name)" "$round: on pgh_freeze alone"
pgsql -c "DROP TABLE pgh_freeze" >/dev/null || die "DROP failed"

# multixact_wraparound (max_pct 50: 1 073 741 824 multixacts).  The next
# multixact ID moved, its offsets segment given (zeros: never used).
next_mxid() { # MXID: the server's next multixact ID becomes MXID
	"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
	slru_segment "pg_multixact/offsets/$(printf '%04X' $(($1 / 65536)))"
	"$PGH_FIXTURE" tool "$PGH_FIXTURE_DIR" pg_resetwal -m "$1,1" >/dev/null ||
		die "pg_resetwal -m $1,1 failed"
	start_faked
}
mxid_age() { q "SELECT max(mxid_age(datminmxid)) FROM pg_database"; }
round=multixact-short
next_mxid 1073700000
run_once "$conf" 1 "$round: $(mxid_age) multixacts"
assert_eq autovacuum_disabled "$(findings)" "$round: no multixact_wraparound finding"
round=multixact
next_mxid 1073800000
run_once "$conf" 2 "$round: $(mxid_age) multixacts: critical"
assert_eq "autovacuum_disabled multixact_wraparound" "$(findings)" "$round: multixact_wraparound fires"
assert_eq 50.0 "$(pack_column multixact_wraparound pct_to_wraparound)" "$round: 50.0 % of the way"
next_mxid 2 # back where the databases' oldest multixact is

# replication_slot_retained_wal (max_bytes 10 GiB): a slot that reserved its
# WAL, then the server's WAL position moved forward with pg_resetwal -l.
pgsql -c "SELECT pg_create_physical_replication_slot('pgh_retains', true)" >/dev/null ||
	die "the slot failed"
segsize=$(q "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'")
restart=$(q "SELECT pg_wal_lsn_diff(restart_lsn, '0/0') FROM pg_replication_slots")
next_wal() { # BYTES: the server's WAL begins at the segment BYTES past the slot's
	local segno=$(((restart + $1) / segsize)) per=$((4294967296 / segsize))
	"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
	"$PGH_FIXTURE" tool "$PGH_FIXTURE_DIR" pg_resetwal -l "$(printf '00000001%08X%08X' $((segno / per)) $((segno % per)))" \
		>/dev/null || die "pg_resetwal -l failed"
	start_faked
}
retained() { q "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots"; }
round=slot-short
next_wal $((10737418240 - segsize / 2))
assert_le "$(retained)" 10737418240 "setup: the slot retains $(retained) bytes, under 10 GiB"
run_once "$conf" 1 "$round: $(retained) bytes retained"
assert_eq "autovacuum_disabled inactive_replication_slots" "$(findings)" "$round: no replication_slot_retained_wal finding"
round=slot
next_wal $((10737418240 + segsize))
run_once "$conf" 1 "$round: $(retained) bytes retained"
assert_eq "autovacuum_disabled inactive_replication_slots replication_slot_retained_wal" "$(findings)" \
	"$round: replication_slot_retained_wal fires"
assert_eq pgh_retains "$(pack_column replication_slot_retained_wal slot_name)" "$round: names the slot"
pgsql -c "SELECT pg_drop_replication_slot('pgh_retains')" >/dev/null || die "DROP slot failed"

# ---- checksum_failures (any) --------------------------------------------------------
# Data checksums turned on (pg_checksums, the server stopped), then one byte
# of a table's first page overwritten on disk: reading it fails verification.
round=checksum
pgsql -c "CREATE TABLE pgh_sum AS SELECT g AS id FROM generate_series(1, 100) AS g" >/dev/null ||
	die "setup failed"
analyzed pgh_sum
relfile=$PGH_FIXTURE_DIR/data/$(q "SELECT pg_relation_filepath('pgh_sum')")
"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
"$PGH_FIXTURE" tool "$PGH_FIXTURE_DIR" pg_checksums --enable >"$work/pg_checksums.log" 2>&1 ||
	die "pg_checksums --enable failed: $(cat "$work/pg_checksums.log")"
start_faked
assert_eq on "$(q "SHOW data_checksums")" "setup: data checksums on"
run_once "$conf" 1 "$round: checksums on, no page read has failed"
assert_eq autovacuum_disabled "$(findings)" "$round: no checksum_failures finding"
"$PGH_FIXTURE" stopserver "$PGH_FIXTURE_DIR" fast >/dev/null || die "stop failed"
printf 'X' | dd of="$relfile" bs=1 seek=5000 conv=notrunc status=none
start_faked
pgsql -c "SELECT count(*) FROM pgh_sum" >/dev/null 2>&1 && die "the damaged page was read"
sleep 1 # the failure counted in the statistics
run_once "$conf" 2 "$round: a page that fails verification: critical"
assert_eq "autovacuum_disabled checksum_failures" "$(findings)" "$round: checksum_failures fires"
assert_eq 1 "$(pack_column checksum_failures checksum_failures)" "$round: one failure, in $(pack_column checksum_failures datname)"

finish
