#!/bin/bash
# Fault injection, the output directory (tmpfs file systems):
#
#  8. (a) read-only under a running daemon: the failure is logged, the daemon
#         stays up, and after a remount read-write the files are fresh again
#     (b) full (ENOSPC): the check that fills it is error, no partial or temp
#         file, the other check's file is complete
#     (d) full while a small result is rewritten through its spare: the
#         half-written spare is removed, so status.csv still gets written
#     (c) removed under a running daemon: the check fails, the daemon stays
#         up and recovers once the directory exists again
#
# Needs root (it mounts tmpfs file systems).  Times are printed as "figure:
# ..." lines.  Every time bound is multiplied by $PGH_SLOW (see lib.sh).
# The other fault groups: faults_timeout, faults_terminate, faults_server,
# faults_load, faults_signals.
#
# Run alone: meson test -C build faults_disk
#   or: PGHEALTHD=build/src/pghealthd tests/with-pg.sh tests/faults_disk.sh
#
# Many helpers run only through wait_for: shellcheck cannot see those calls.
# shellcheck disable=SC2317
set -eu
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_setup faults_disk root mount umount mountpoint
umask 022

# Remount MOUNTPOINT with OPTIONS; a remount to read-only fails with EBUSY
# while a file is open for writing, so retry for a while.
remount() { # MOUNTPOINT OPTIONS
	local i
	for i in $(seq 1 100); do
		mount -o "remount,$2" "$1" 2>/dev/null && return 0
		: "$i"
		sleep 0.02
	done
	mount -o "remount,$2" "$1"
}

q8="SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 3) g"

# A daemon with one check, rows ($q8), writing to OUTDIR; waits for its
# first round.
start_rows_daemon() { # OUTDIR
	write_config "$conf" "$1" 1s 2
	add_check "$conf" rows "$q8"
	first_round "$1" rows
}

# ===========================================================================
# 8. Output directory faults
# ===========================================================================
# (a) read-only file system under a running daemon
scenario read-only
mount_tmpfs "$d/mnt" size=1m
out=$d/mnt/out
start_rows_daemon "$out"
remount "$d/mnt" ro || die "remount read-only failed"
erofs() { log_has "$log" "Read-only file system"; }
if wait_for "$(slow_ms 3000)" erofs; then
	echo "figure: read-only: failure logged ${waited_ms} ms after remount ro"
	ok "$t: the log shows the failure: $(grep -m 1 -F 'Read-only file system' "$log" | cut -c 25-)"
else
	fail "$t: no 'Read-only file system' in the log"
	show_log "$log"
fi
sleep 1
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon stays up"
remount "$d/mnt" rw || die "remount read-write failed"
t_rw=$(now_ms)
fresh_rows() {
	status_all "$out" findings "$t_rw" rows &&
		[ "$(($(stat -c %Y "$out/rows.csv" 2>/dev/null || echo 0) * 1000))" -ge $((t_rw - 1000)) ]
}
if expect_within 3000 "$t: status.csv and rows.csv are fresh again" \
	"$t: not fresh 3 s after remount rw" fresh_rows; then
	echo "figure: read-only: fresh status.csv and rows.csv ${waited_ms} ms after remount rw"
else
	echo "#   status.csv: [$snap]"
fi
copy_csv "$q8" "$d/rows.expected" || die "reference COPY failed"
assert_files_equal "$d/rows.expected" "$out/rows.csv" "$t: rows.csv equals COPY"
stop_daemon "$dpid" 3000 "$t" "$log"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"

# (b) a full file system (ENOSPC)
scenario enospc
mount_tmpfs "$d/mnt" size=1m
out=$d/mnt/out
write_config "$conf" "$out" 60s 2
add_check "$conf" small "SELECT 'small' AS s, 1 AS n"
# ~5 MB; pg_sleep(0.2) in FROM lets the small check finish first.
add_check "$conf" big "SELECT repeat('x', 1000) AS filler FROM pg_sleep(0.2), generate_series(1, 5000)"
run_once "$conf" 3 "$t: a check that fills the file system makes the round UNKNOWN"
snapshot "$out"
assert_eq error "$(snap_get big 2)" "$t: the big check is error"
assert_contains "$(snap_get big 5)" "No space left on device" "$t: the error says No space left on device"
assert_file_absent "$out/big.csv" "$t: no file for the big check"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"
assert_eq findings "$(snap_get small 2)" "$t: the small check is findings"
copy_csv "SELECT 'small' AS s, 1 AS n" "$d/small.expected" || die "reference COPY failed"
assert_files_equal "$d/small.expected" "$out/small.csv" "$t: small.csv is complete (equals COPY)"
echo "figure: enospc: tmpfs use after the round: $(df -k --output=used "$d/mnt" | tail -n 1 | tr -d ' ') kB of 1024"

# (d) a full file system under a result small enough for a spare (history
# = 0, under 256 KiB): about 64 KiB free, a 150 kB result.
scenario enospc-spare
mount_tmpfs "$d/mnt" size=1m
out=$d/mnt/out
mkdir -p "$out"
write_config "$conf" "$out" 60s 2
add_check "$conf" mid "SELECT repeat('x', 1000) AS filler FROM generate_series(1, 150)"
head -c $((960 * 1024)) /dev/zero >"$d/mnt/filler"
run_once "$conf" 3 "$t: a result that does not fit makes the round UNKNOWN"
snapshot "$out"
assert_eq error "$(snap_get mid 2)" "$t: status.csv is written, and says mid is error"
assert_contains "$(snap_get mid 5)" "No space left on device" "$t: the error says No space left on device"
assert_file_absent "$out/mid.csv" "$t: no file for the check"
assert_file_absent "$out/.spare/mid.csv" "$t: no half-written spare left"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"

# (c) output_dir removed underneath a running daemon
scenario removed
out=$d/out
start_rows_daemon "$out"
rm -rf "$out"
n_before=$(grep -c 'check rows: error' "$log" || true)
rows_error() { [ "$(grep -c 'check rows: error' "$log")" -gt "$n_before" ]; }
if wait_for "$(slow_ms 3000)" rows_error; then
	ok "$t: the check fails while output_dir is gone: $(grep -F 'check rows: error' "$log" | tail -n 1 | cut -c 25-)"
else
	fail "$t: no check error logged after output_dir was removed"
	show_log "$log"
fi
assert_eq 0 "$(alive "$dpid" && echo 0 || echo 1)" "$t: the daemon stays up"
mkdir "$out"
t_mk=$(now_ms)
recovered() { status_all "$out" findings "$t_mk" rows && [ -f "$out/rows.csv" ]; }
if expect_within 3000 "$t: it recovers once output_dir exists again" \
	"$t: no recovery 3 s after mkdir" recovered; then
	echo "figure: removed: status.csv and rows.csv back ${waited_ms} ms after mkdir"
else
	echo "#   status.csv: [$snap]"
fi
stop_daemon "$dpid" 3000 "$t" "$log"
assert_no_tmp_files "$out" "$t: no .*.tmp file left"

finish
