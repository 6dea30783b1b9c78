#!/usr/bin/env bash
# Runs a transport test binary in a private network namespace where IPv6 is
# off, and checks that tcp6 is skipped with a visible reason while the other
# kinds still pass. Exit 77 (ctest's skip) where no namespace can be made.
set -uo pipefail
binary="$1"
if ! unshare -n true 2>/dev/null; then
  echo "skipped: cannot create a network namespace here (needs root or CAP_SYS_ADMIN)"
  exit 77
fi
output=$(unshare -n sh -c '
  ip link set lo up &&
  sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 &&
  exec "$0" --gtest_filter="*OneByteBothWays*"' "$binary" 2>&1)
status=$?
echo "$output"
fail() { echo "ipv6_off_test: $1"; exit 1; }
((status == 0)) || fail "the test binary failed with IPv6 off (exit $status)"
grep -q '^\[  SKIPPED \] AllKinds/StreamTest.OneByteBothWays/tcp6' <<<"$output" ||
  fail "tcp6 was not skipped"
grep -q 'tcp6 is unavailable on this machine: .*EADDRNOTAVAIL' <<<"$output" ||
  fail "the skip does not say why"
grep -q '^\[  PASSED  \] 4 tests' <<<"$output" || fail "the other four kinds did not pass"
echo "ipv6_off_test: tcp6 skipped with its reason; 4 kinds passed"
