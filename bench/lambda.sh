#!/bin/bash
# Warm invocations of `pghealthd lambda` beside `exec --event` started per
# request (the cold path), against one real PostgreSQL server.
#
#   bench/lambda.sh [N]        N warm invocations (default 2000)
#
# Starts a throwaway server (tests/pgfixture.sh, stopped on exit) and the
# Runtime API stand-in of the tests (tests/lambda-runtime.py: no AWS service
# can be reached here), then times, from the caller's side:
#
#   lambda warm   N invocations of {"sql_query": "SELECT 1"} in turn through
#                 the stand-in, pghealthd lambda on one warm connection
#   exec cold     N/10 runs of `pghealthd exec --event -` on the same
#                 request, each a new process and a new connection
#
# and prints invocations per second and p50/p99 latency of each, with the
# original executor's floor beside them: it polls the Redshift Data API
# every 0.5 s, so none of its calls answers in under 500 ms.
#
# Environment: PGHEALTHD (default build/src/pghealthd).  Needs python3,
# the PostgreSQL server binaries and psql; runs as root (the fixture runs
# the server as postgres) or as the server's owner.
set -eu
me=lambda
here=$(cd "$(dirname "$0")" && pwd -P)
root=$(dirname "$here")
fixture=$root/tests/pgfixture.sh
standin=$root/tests/lambda-runtime.py
PGHEALTHD=${PGHEALTHD:-$root/build/src/pghealthd}
N=${1:-2000}

die() {
	echo "$me: $*" >&2
	exit 1
}
[ -x "$PGHEALTHD" ] || die "no pghealthd binary at $PGHEALTHD (set PGHEALTHD)"
command -v python3 >/dev/null || die "python3 not found (package python3)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-lambda.XXXXXX")
runtime_pid= function_pid=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -z "$function_pid" ] || kill "$function_pid" 2>/dev/null || true
	[ -z "$runtime_pid" ] || kill "$runtime_pid" 2>/dev/null || true
	"$fixture" stop "$work/pg" >/dev/null 2>&1 || true
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT INT TERM

eval "$("$fixture" start "$work/pg")"
printf '[target]\nconninfo =\n' >"$work/exec.ini"
export PGHEALTHD_CONFIG=$work/exec.ini
event='{"sql_query": "SELECT 1"}'

python3 "$standin" serve "$work/port" 30 &
runtime_pid=$!
for ((i = 0; i < 100; i++)); do
	[ -s "$work/port" ] && break
	sleep 0.05
done
port=$(cat "$work/port")
AWS_LAMBDA_RUNTIME_API=127.0.0.1:$port "$PGHEALTHD" lambda 2>"$work/function.log" &
function_pid=$!
python3 "$standin" invoke-many "$port" 20 "$event" >/dev/null || die "warm-up failed"
read -r n warm50 warm99 warm_s < <(python3 "$standin" invoke-bench "$port" "$N" "$event")
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$function_pid/status")

# The cold path: a process and a connection per request.
cold=$((N / 10 > 20 ? N / 10 : 20))
for ((i = 0; i < cold; i++)); do
	s=$(date +%s%N)
	printf '%s' "$event" | "$PGHEALTHD" exec --event - >/dev/null
	echo $((($(date +%s%N) - s) / 1000))
done | sort -n >"$work/cold"
cold50=$(awk -v n="$cold" 'NR == int(n / 2) + 1 { printf "%.2f", $1 / 1000 }' "$work/cold")
cold99=$(awk -v n="$cold" 'NR == int(n * 99 / 100) + 1 { printf "%.2f", $1 / 1000 }' "$work/cold")
cold_s=$(awk '{ t += $1 } END { printf "%.0f", NR / (t / 1e6) }' "$work/cold")

cat <<REPORT
| path | invocations | per second | p50 ms | p99 ms |
|---|---|---|---|---|
| pghealthd lambda, warm | $n | $warm_s | $warm50 | $warm99 |
| pghealthd exec --event, per request | $cold | $cold_s | $cold50 | $cold99 |
| the original (Data API polled every 0.5 s) | — | ≤ 2 | ≥ 500 | ≥ 500 |

pghealthd lambda peak RSS: $rss kB.  PostgreSQL $(psql -XAtc "SHOW server_version"), $(nproc) cores.
REPORT
