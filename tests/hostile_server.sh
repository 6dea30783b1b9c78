#!/bin/sh
# Correct servers made hostile in the ways `check` must survive (issue 26).
# Usage: hostile_server.sh MODE SERVER ADDRESS
#   flood-before-ready  100 MB on stdout before the server's "ready"
#   flood-and-crash     serves, then writes 100 MB to stderr and crashes
#   ready-on-stderr     says "ready" on stderr only (the contract: stdout)
#   slow-start          says "ready" after 1.5 s, within the contract's 10 s
#   exit-after-ready    says "ready", then exits 0 at once, before any SIGTERM
#   leader-crashes      a pre-fork server: a worker serves, the leader
#                       crashes and leaves it running
mode=$1 server=$2
shift 2
case $mode in
  flood-before-ready)
    head -c 100000000 /dev/zero | tr '\0' x
    echo
    exec "$server" "$@" ;;
  flood-and-crash)
    "$server" "$@" &
    pid=$!
    # Pacing the stimulus: the flood and the crash come early, while the
    # cases run (seven groups on two transports: seconds, not one).
    sleep 0.2
    head -c 100000000 /dev/zero | tr '\0' y >&2
    kill -SEGV "$pid"
    wait "$pid"
    exit 139 ;;
  slow-start)
    sleep 1.5
    exec "$server" "$@" ;;
  exit-after-ready)
    echo ready
    exit 0 ;;
  ready-on-stderr)
    exec "$server" "$@" 1>&2 ;;
  leader-crashes)
    "$server" "$@" &
    sleep 0.5
    kill -SEGV $$ ;;
  *)
    echo "hostile_server.sh: unknown mode '$mode'" >&2
    exit 2 ;;
esac
