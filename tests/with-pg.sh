#!/bin/bash
# Run a command against a fresh throwaway PostgreSQL server:
#
#   tests/with-pg.sh CMD [ARGS...]
#
# Exports PGHOST PGPORT PGUSER PGDATABASE (libpq finds the server with them),
# PGH_TEST_TMP (an empty scratch directory for outputs), PGH_FIXTURE (this
# directory's pgfixture.sh) and PGH_FIXTURE_DIR (the cluster's directory, for
# `"$PGH_FIXTURE" stopserver|startserver|restart "$PGH_FIXTURE_DIR"`).
# The server is stopped and every temp file removed whatever happens; the exit
# status is CMD's.
set -eu

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 64
fi

here=$(cd "$(dirname "$0")" && pwd)
fixture=$here/pgfixture.sh

# Settings from the caller's environment that would point libpq elsewhere or
# change what the server sends.
unset PGHOSTADDR PGSERVICE PGSERVICEFILE PGOPTIONS PGPASSWORD PGPASSFILE \
	PGSSLMODE PGREQUIRESSL PGGSSENCMODE PGTZ PGDATESTYLE PGCLIENTENCODING \
	PGAPPNAME PGTARGETSESSIONATTRS PGREQUIREAUTH PGCHANNELBINDING \
	PGCONNECT_TIMEOUT PGSYSCONFDIR PGLOCALEDIR PGDATA 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pghealthd-test.XXXXXX")
status=0
cleaned=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ "$cleaned" -eq 0 ] || return 0
	cleaned=1
	# Whatever happens here (a closed stdout, a failing command), the server
	# is stopped first and the directory removed last.
	set +e
	trap '' PIPE INT TERM
	"$fixture" stop "$tmp/pg" || echo "with-pg: could not stop the server in $tmp/pg" >&2
	if [ "$status" -ne 0 ] && [ -s "$tmp/pg/server.log" ]; then
		{
			echo "with-pg: ---- server log (last 40 lines) ----"
			tail -n 40 "$tmp/pg/server.log"
			echo "with-pg: ---- end of server log ----"
		} >&2
	fi
	rm -rf "$tmp"
}
trap 'cleanup' EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM

mkdir "$tmp/pg" "$tmp/scratch"
if ! envlines=$("$fixture" start "$tmp/pg"); then
	status=1
	echo "with-pg: could not start PostgreSQL" >&2
	exit 1
fi
eval "$envlines"
PGH_TEST_TMP=$tmp/scratch
PGH_FIXTURE=$fixture
PGH_FIXTURE_DIR=$tmp/pg
export PGH_TEST_TMP PGH_FIXTURE PGH_FIXTURE_DIR

"$@" || status=$?
exit "$status"
