#!/bin/sh
# Run a unit-test executable, under $PGH_WRAPPER when one is set
# (`meson test --setup valgrind` sets it to a valgrind command line).
set -eu
# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
exec ${PGH_WRAPPER:-} "$@"
