#!/bin/bash
# The lifecycle fuzzer's rate, a baseline build (another git revision:
# bench/build_at.sh) and this one, alternating so that a noisy neighbour
# hits both; and the gcc replay binary's wall time over the corpus, both
# builds. Builds nothing.
#
#   bench/fuzz_rate.sh BASELINE_DIR BUILD_DIR CORPUS_DIR OUTPUT_JSON [ROUNDS] [SECONDS]
#
# BASELINE_DIR, BUILD_DIR: each holds fuzz/lifecycle_fuzzer (fuzz preset)
# and, optionally, fuzz/lifecycle_replay (the default preset's, built into
# the same directory or its sibling default/); CORPUS_DIR: corpus/lifecycle.
# Each fuzzer round runs on a fresh scratch copy of the corpus. Defaults: 3
# rounds of 10 s.
set -euo pipefail

if [[ $# -lt 4 ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
baseline=$1 build=$2 corpus=$3 output=$4 rounds=${5:-3} seconds=${6:-10}
declare -A fuzzer replay
for way in old new; do
  dir=$baseline
  [[ $way == new ]] && dir=$build
  fuzzer[$way]=$dir/fuzz/lifecycle_fuzzer
  [[ -x ${fuzzer[$way]} ]] || { echo "not an executable: ${fuzzer[$way]}" >&2; exit 2; }
  replay[$way]=
  for candidate in "$dir/fuzz/lifecycle_replay" "$dir/../default/fuzz/lifecycle_replay"; do
    if [[ -x $candidate ]]; then replay[$way]=$candidate; break; fi
  done
done
[[ -n ${replay[old]} && -n ${replay[new]} ]] || replay=([old]= [new]=)
[[ -d $corpus ]] || { echo "not a directory: $corpus" >&2; exit 2; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The fuzzer's average exec/s over one round; $1 is old or new.
fuzz_round() {
  rm -rf "$scratch/corpus"
  cp -r "$corpus" "$scratch/corpus"
  "${fuzzer[$1]}" -max_total_time="$seconds" \
    -print_final_stats=1 "$scratch/corpus" >"$scratch/log" 2>&1 || {
    echo "the fuzzer failed; its log:" >&2
    tail -n 40 "$scratch/log" >&2
    exit 1
  }
  awk '/stat::average_exec_per_sec:/ { print $2 }' "$scratch/log"
}

# Wall seconds of the replay binary over every input of the corpus.
replay_round() {
  local start end
  start=$(date +%s.%N)
  "${replay[$1]}" "$corpus"/* 2>"$scratch/log" || {
    tail -n 40 "$scratch/log" >&2
    exit 1
  }
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}

median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR % 2) print v[(NR + 1) / 2];
          else printf "%g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

join() { local IFS=,; echo "$*"; }

old=() new=() old_replay=() new_replay=()
for ((round = 1; round <= rounds; ++round)); do
  old+=("$(fuzz_round old)")
  new+=("$(fuzz_round new)")
  echo "round $round: lifecycle_fuzzer exec/s baseline ${old[-1]}, new ${new[-1]}"
  if [[ -n ${replay[new]} ]]; then
    old_replay+=("$(replay_round old)")
    new_replay+=("$(replay_round new)")
    echo "round $round: lifecycle_replay over the corpus, wall s:" \
      "baseline ${old_replay[-1]}, new ${new_replay[-1]}"
  fi
done

old_median=$(median "${old[@]}") new_median=$(median "${new[@]}")
echo "lifecycle_fuzzer exec/s median: baseline $old_median, new $new_median"
json="{\"lifecycle_fuzzer\": {\"baseline_exec_per_s\": [$(join "${old[@]}")],"
json+=" \"new_exec_per_s\": [$(join "${new[@]}")],"
json+=" \"baseline_median\": $old_median, \"new_median\": $new_median}"
if [[ -n ${replay[new]} ]]; then
  old_replay_median=$(median "${old_replay[@]}")
  new_replay_median=$(median "${new_replay[@]}")
  echo "lifecycle_replay wall s median: baseline $old_replay_median," \
    "new $new_replay_median"
  json+=", \"lifecycle_replay\": {\"inputs\": $(find "$corpus" -maxdepth 1 -type f | wc -l),"
  json+=" \"baseline_wall_s\": [$(join "${old_replay[@]}")],"
  json+=" \"new_wall_s\": [$(join "${new_replay[@]}")],"
  json+=" \"baseline_median\": $old_replay_median,"
  json+=" \"new_median\": $new_replay_median}"
fi
json+="}"
echo "$json" >"$output"
echo "wrote $output"
