# shellcheck shell=bash
# Helpers for the check-pack tests.  Source after lib.sh, with $pack set to
# the pack's .ini file.

# pack_config FILE ROLE DBNAME OUTDIR [SESSION_SQL...]: a configuration that
# includes the pack as shipped, connecting as ROLE to DBNAME on the fixture's
# server, with extra session_sql lines (lowered thresholds).
pack_config() {
	local f=$1 role=$2 db=$3 out=$4 s
	shift 4
	mkdir -p "$out"
	{
		cat <<EOF
[target]
conninfo = host='$PGHOST' port=$PGPORT dbname=$db user=$role
timezone = UTC
session_sql = SET lock_timeout = '1s'
EOF
		for s in "$@"; do
			echo "session_sql = $s"
		done
		cat <<EOF

[pool]
max_connections = 3

[run]
output_dir = $out
fsync = false
history = 0
include = $pack
EOF
	} >"$f"
}
