#!/bin/bash
# The pack's WAL checks at their default thresholds, against the real thing:
# a failing archive_command leaves segments waiting (archive_status/*.ready)
# and an unused replication slot keeps WAL in pg_wal past what the server
# means to keep.  wal_pileup must find each, name what keeps the WAL, and be
# healthy again once it is fixed; wal_archiving_failures finds the failing
# archiver.  Server settings are changed (archive_mode needs a restart), the
# check thresholds are not.
#
# Run alone: meson test -C build packs_wal
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/packs_wal.sh
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup packs_wal

pg_pack_setup

switches() { # N: N new WAL segments
	local i
	for ((i = 0; i < $1; i++)); do
		pgsql -c "INSERT INTO pgh_wal VALUES ($i)" -c "SELECT pg_switch_wal()" >/dev/null ||
			die "pg_switch_wal failed"
	done
}
ready() { q "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'"; }

pgsql -c "CREATE TABLE pgh_wal (x int)" >/dev/null || die "setup failed"

round=baseline
run_once "$conf" 0 "$round: a fresh cluster has no warning or critical finding"
assert_eq ok "$(pack_state wal_pileup)" "$round: wal_pileup is healthy"

# ---- the archiver fails: segments wait ----------------------------------------
round=archiver
pgsql -c "ALTER SYSTEM SET archive_mode = on" -c "ALTER SYSTEM SET archive_command = 'false'" \
	>/dev/null || die "ALTER SYSTEM failed"
"$PGH_FIXTURE" restart "$PGH_FIXTURE_DIR" >/dev/null || die "restart failed"
switches 17
wait_sql "SELECT count(*) >= 16 FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" \
	"16 segments waiting for the archiver"
wait_sql "SELECT failed_count > 0 FROM pg_stat_archiver" "the archiver failed"
run_once "$conf" 1 "$round: a warning"
assert_eq findings "$(pack_state wal_pileup)" "$round: wal_pileup finds $(ready) segments waiting (default max_ready 16)"
n=$(pack_column wal_pileup ready_files)
assert_le 16 "${n:-0}" "$round: the row says how many wait ($n)"
assert_eq on "$(pack_column wal_pileup archive_mode)" "$round: the row says archive_mode"
assert_ne "" "$(pack_column wal_pileup last_failed_wal)" "$round: the row names the segment that failed"
assert_eq findings "$(pack_state wal_archiving_failures)" "$round: wal_archiving_failures finds the failing archive_command"

pgsql -c "ALTER SYSTEM SET archive_command = 'true'" -c "SELECT pg_reload_conf()" >/dev/null ||
	die "ALTER SYSTEM failed"
wait_sql "SELECT count(*) = 0 FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'" \
	"the backlog archived"
round=archived
run_once "$conf" 0 "$round: no warning left"
assert_eq ok "$(pack_state wal_pileup)" "$round: wal_pileup is healthy"
assert_eq ok "$(pack_state wal_archiving_failures)" "$round: wal_archiving_failures is healthy"

# ---- a slot nobody reads keeps WAL ---------------------------------------------
# The server keeps max_wal_size (min_wal_size when larger): 32 MB here, so
# that a dozen segments are past twice that.
round=slot
pgsql -c "ALTER SYSTEM SET max_wal_size = '32MB'" -c "ALTER SYSTEM SET min_wal_size = '32MB'" \
	-c "SELECT pg_reload_conf()" \
	-c "SELECT pg_create_physical_replication_slot('pgh_keep', true)" >/dev/null ||
	die "slot setup failed"
switches 6
pgsql -c "CHECKPOINT" >/dev/null
switches 6
pgsql -c "CHECKPOINT" >/dev/null
run_once "$conf" 1 "$round: a warning"
assert_eq findings "$(pack_state wal_pileup)" "$round: wal_pileup finds pg_wal past 2 x max_wal_size (default max_ratio 2)"
assert_eq pgh_keep "$(pack_column wal_pileup top_slot)" "$round: the row names the slot that keeps it"
assert_eq f "$(pack_column wal_pileup top_slot_active)" "$round: and says nobody reads it"
echo "figure: $round: pg_wal $(pack_column wal_pileup wal_size) for a budget of $(pack_column wal_pileup wal_budget)"

pgsql -c "SELECT pg_drop_replication_slot('pgh_keep')" -c "ALTER SYSTEM RESET max_wal_size" \
	-c "ALTER SYSTEM RESET min_wal_size" -c "SELECT pg_reload_conf()" >/dev/null ||
	die "slot cleanup failed"
pgsql -c "CHECKPOINT" >/dev/null
round=released
run_once "$conf" 0 "$round: no warning left"
assert_eq ok "$(pack_state wal_pileup)" "$round: wal_pileup is healthy"

finish
