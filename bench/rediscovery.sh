#!/usr/bin/env bash
# Search power, measured the way FuzzBench and Magma measure a fuzzer: the
# time to find a known bug. Here a "bug" is a registry entry hidden with
# SOCKPARITY_REGISTRY_WITHOUT: for each entry, the lifecycle fuzzer (from
# the seed corpus, corpus/lifecycle, less the seeds that already show the
# entry) and then the lifecycle property (fresh seeds) run until one of
# their findings is a divergence that the whole registry explains with that
# very entry.
#
# Usage: bench/rediscovery.sh [--seconds N] [--only id,...] OUT_DIR
#   --seconds N  the most each search gets per entry (default 300: the goal)
#   --only       these entries (default: every one, `sockparity differences --ids`)
# Needs the default build (sockparity, properties_test, lifecycle_replay)
# and the fuzz preset (lifecycle_fuzzer). Writes OUT_DIR/rediscovery.tsv
# (entry, fuzzer seconds, property seconds; ">N" when not found within N)
# and prints it as it goes; OUT_DIR/ID/seeds-left-out counts the seeds that
# already showed the entry.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300 only=
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --only) only=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "rediscovery.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
(($# == 1)) || { echo "usage: bench/rediscovery.sh [--seconds N] [--only id,...] OUT_DIR" >&2; exit 2; }
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "rediscovery.sh: --seconds N, N >= 1" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
tool=build/default/harness/sockparity
property=build/default/properties/properties_test
fuzzer=build/fuzz/fuzz/lifecycle_fuzzer
replay=build/default/fuzz/lifecycle_replay
for binary in "$tool" "$property" "$fuzzer" "$replay"; do
  [[ -x "$binary" ]] || { echo "rediscovery.sh: $binary is not built" >&2; exit 2; }
done
if [[ -n "$only" ]]; then
  IFS=, read -r -a entries <<<"$only"
else
  mapfile -t entries < <("$tool" differences --ids)
fi

# The first finding in DIR that the whole registry explains with entry ID:
# prints its file, or nothing.
rediscovered() {  # DIR ID
  local script
  for script in "$1"/*.script; do
    [[ -f "$script" ]] || continue
    if "$tool" replay "$script" 2>/dev/null | grep -q "apart from.*\b$2\b"; then
      echo "$script"
      return
    fi
  done
}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

printf 'entry\tfuzzer_s\tproperty_s\n' | tee "$out/rediscovery.tsv"
for id in "${entries[@]}"; do
  work="$out/$id"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/fuzzer-findings" "$work/property-findings"
  # Like Magma's seeds, which never trigger the bug: a seed that already
  # shows the hidden entry is left out, so the time is a search's.
  shown=0
  for seed in corpus/lifecycle/*; do
    if SOCKPARITY_REGISTRY_WITHOUT=$id SOCKPARITY_FUZZ_INPUT_SECONDS=30 \
        "$replay" "$seed" >/dev/null 2>&1; then
      cp "$seed" "$work/corpus/"
    else
      shown=$((shown + 1))
    fi
  done
  echo "$shown" >"$work/seeds-left-out"

  # The fuzzer, in its own process group so that its jobs end with it.
  start=$(date +%s)
  SOCKPARITY_REGISTRY_WITHOUT=$id SOCKPARITY_FINDINGS_DIR="$work/fuzzer-findings" \
    setsid "$fuzzer" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
      -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
      -artifact_prefix="$work/" "$work/corpus" >"$work/fuzzer.log" 2>&1 &
  pid=$!
  pids=("$pid")
  fuzzer_time=">$seconds"
  while kill -0 "$pid" 2>/dev/null; do
    if found=$(rediscovered "$work/fuzzer-findings" "$id") && [[ -n "$found" ]]; then
      fuzzer_time=$(( $(date +%s) - start ))
      echo "$found" >"$work/fuzzer-found"
      break
    fi
    sleep 1  # polling the findings directory
  done
  kill -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ "$fuzzer_time" == ">"* ]] &&
      found=$(rediscovered "$work/fuzzer-findings" "$id") && [[ -n "$found" ]]; then
    fuzzer_time=$(( $(date +%s) - start ))
  fi

  # The property, seed after seed; each failing script it tries is a finding.
  start=$(date +%s)
  property_time=">$seconds"
  while (( $(date +%s) - start < seconds )); do
    seed=$(( (RANDOM << 15 | RANDOM) + 1 ))
    SOCKPARITY_REGISTRY_WITHOUT=$id SOCKPARITY_FINDINGS_DIR="$work/property-findings" \
      RC_PARAMS="seed=$seed max_success=100" \
      timeout "$seconds" "$property" --gtest_filter='Lifecycle.*' >>"$work/property.log" 2>&1 || true
    if found=$(rediscovered "$work/property-findings" "$id") && [[ -n "$found" ]]; then
      property_time=$(( $(date +%s) - start ))
      echo "$found" >"$work/property-found"
      break
    fi
  done
  printf '%s\t%s\t%s\n' "$id" "$fuzzer_time" "$property_time" | tee -a "$out/rediscovery.tsv"
done
