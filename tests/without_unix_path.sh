#!/bin/sh
# A server wrapper that does not serve unix: paths (exit 64, as the peer
# contract says for an unsupported form), to check that the suite fails a
# server that leaves out a required form:
#   without_unix_path.sh SERVER... ADDRESS
for address; do :; done
case "$address" in
  unix:/*) exit 64 ;;
esac
exec "$@"
