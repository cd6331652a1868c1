#!/bin/sh
# kafka-consumer-groups.sh for Odradek: the same options and output, served by `odradek consumer-groups`.
exec "$(dirname "$0")/odradek-tool.sh" kafka-consumer-groups.sh consumer-groups "$@"
