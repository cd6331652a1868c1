#!/bin/sh
# kafka-topics.sh for Odradek: the same options and output, served by `odradek topics`.
# Uses $ODRADEK_BIN when set, else the release build (built on first use).
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ODRADEK_BIN:-"$root/.build/release/odradek"}
if [ ! -x "$bin" ]; then
    echo "kafka-topics.sh: building $bin (swift build -c release --product odradek)" >&2
    (cd "$root" && swift build -c release --product odradek >&2)
fi
exec "$bin" topics "$@"
