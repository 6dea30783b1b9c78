#!/bin/sh
# A correct server whose first start on TCP meets a port taken by another
# program (the test) between the suite's choice and its bind, as happens
# when ports collide: it says where it was to listen, waits until the test
# holds that port, and fails to start as a server then does.
# Usage: port_taken_server.sh STATE_DIR SERVER ADDRESS
state=$1 server=$2 address=$3
case "$address" in
  tcp:127.0.0.1:*)
    if mkdir "$state/first" 2>/dev/null; then
      echo "${address##*:}" > "$state/port.tmp" && mv "$state/port.tmp" "$state/port"
      while [ ! -e "$state/taken" ]; do sleep 0.01; done
      echo "bind: Address already in use" >&2
      exit 1
    fi ;;
esac
exec "$server" "$address"
