# shellcheck shell=bash
# Helpers for the exec tests: run `pghealthd exec` and read its JSON.  Source
# after lib.sh and require_env, with $work set to a scratch directory.

# exec ARGS... -> $out (stdout) and $rc; stderr to $work/err
run_exec() {
	out=$(pgh exec "$@" 2>"$work/err")
	rc=$?
}

# exec --event - with the request JSON on stdin -> $out and $rc.
event() { # JSON
	out=$(printf '%s' "$1" | pgh exec --event - 2>"$work/err")
	rc=$?
}

# A jq filter over $out, compact.
jget() { # FILTER
	jq -c "$1" <<<"$out"
}
