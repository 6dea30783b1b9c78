#!/bin/sh
# A correct server that also starts what real servers start: a worker in its
# own process group and a daemon that left it (setsid, then a second fork).
# Usage: forking_server.sh SERVER ADDRESS. Neither holds the connection of
# fd:N (3>&-), so the server's verdicts stay its own.
server=$1
shift
sleep 1000 3>&- </dev/null >/dev/null 2>&1 &
setsid sh -c 'sleep 1000 & exit 0' 3>&- </dev/null >/dev/null 2>&1
exec "$server" "$@"
