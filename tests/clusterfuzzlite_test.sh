#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh as ClusterFuzzLite would (Docker does not
# run here): with CC, CXX, CXXFLAGS, LIB_FUZZING_ENGINE and OUT set for
# clang-14 and libFuzzer, then checks every target it produces: present,
# runs its seed corpus, and has its seed corpus zip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v clang++-14 >/dev/null; then
  echo "skipped: clang++-14 is not installed"
  exit 77
fi
out=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$out" "$work"' EXIT
# Without AddressSanitizer to keep the build short: what is checked here is
# that build.sh honours the variables and that the targets work.
CC=clang-14 CXX=clang++-14 CXXFLAGS="-O1 -fsanitize=fuzzer-no-link" \
  LIB_FUZZING_ENGINE="-fsanitize=fuzzer" OUT="$out" WORK="$work" \
  bash "$root/.clusterfuzzlite/build.sh"
fail() { echo "clusterfuzzlite_test: $1"; exit 1; }
count=0
for target in length_prefixed_decoder varint_decoder delimited_decoder codec_roundtrip \
              script_parser lifecycle address_parser; do
  [[ -x "$out/$target" ]] || fail "$target was not built into OUT"
  [[ -f "$out/${target}_seed_corpus.zip" ]] || fail "no ${target}_seed_corpus.zip"
  seeds=$(mktemp -d -p "$work")
  unzip -q "$out/${target}_seed_corpus.zip" -d "$seeds"
  [[ -n "$(ls "$seeds")" ]] || fail "${target}_seed_corpus.zip is empty"
  "$out/$target" -runs=0 "$seeds" >"$work/$target.log" 2>&1 ||
    fail "$target failed on its seed corpus: $(tail -5 "$work/$target.log")"
  grep -q "INITED" "$work/$target.log" || fail "$target did not run as a libFuzzer binary"
  count=$((count + 1))
done
[[ -f "$out/script_parser.dict" ]] || fail "script_parser.dict was not copied"
echo "clusterfuzzlite_test: $count targets built by build.sh run their seed corpora"
