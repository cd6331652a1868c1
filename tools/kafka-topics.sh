#!/bin/sh
# kafka-topics.sh for Odradek: the same options and output, served by `odradek topics`.
exec "$(dirname "$0")/odradek-tool.sh" kafka-topics.sh topics "$@"
