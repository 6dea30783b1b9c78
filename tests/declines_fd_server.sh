#!/bin/sh
# A server that declines fd:N (exit 64, as the contract allows) and never
# becomes ready on any other address form.
case "$1" in
  fd:*) exit 64 ;;
esac
exec sleep 60
