#!/bin/sh
# Runs an odradek subcommand for the kafka-*.sh shims: odradek-tool.sh <shim name> <subcommand> [args...].
# Uses $ODRADEK_BIN when set, else the release build (built on first use).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ODRADEK_BIN:-"$root/.build/release/odradek"}
if [ ! -x "$bin" ]; then
    echo "$1: building $bin (swift build -c release --product odradek)" >&2
    (cd "$root" && swift build -c release --product odradek >&2)
fi
shift
exec "$bin" "$@"
