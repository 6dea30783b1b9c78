#!/usr/bin/env bash
# Flakiness under load: runs `sockparity check` on a correct server RUNS
# times, JOBS at a time, with a busy loop on the side (--hog N: N busy
# loops), and counts the runs that did not exit 0. A suite used in other
# projects' CI must not fail a correct server on its own (issue 21: the
# start-up race on TCP ports).
# Usage: bench/parallel_runs.sh [--hog N] [--tool PATH] RUNS JOBS OUTDIR -- SERVER...
# Exit status: 0 every run passed, 1 some did (their output is kept in
# OUTDIR/run-N.txt), 2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
hogs=0 tool=build/default/harness/sockparity
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --hog) hogs=$2; shift 2 ;;
    --tool) tool=$2; shift 2 ;;
    *) echo "parallel_runs: unknown option $1" >&2; exit 2 ;;
  esac
done
if (($# < 5)) || [[ $4 != -- ]]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
runs=$1 jobs=$2 out=$3
shift 4
mkdir -p "$out"
hog_pids=()
for ((i = 0; i < hogs; i++)); do
  (while :; do :; done) &
  hog_pids+=($!)
done
trap 'kill "${hog_pids[@]}" 2>/dev/null || true' EXIT
start=$(date +%s)
export tool out
seq 1 "$runs" | xargs -P "$jobs" -I{} bash -c '
  if "$tool" check -- "$@" >"$out/run-{}.txt" 2>&1; then
    rm -f "$out/run-{}.txt"; echo pass
  else
    echo "fail {} (exit $?)"
  fi' _ "$@" >"$out/results.txt"
passed=$(grep -c '^pass' "$out/results.txt" || true)
echo "parallel_runs: $passed of $runs runs passed, $jobs at a time, $hogs busy" \
  "loop(s), $(($(date +%s) - start)) s: $*"
grep '^fail' "$out/results.txt" || true
((passed == runs))
