#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh as ClusterFuzzLite would (Docker does not
# run here): with CC, CXX, CXXFLAGS, LIB_FUZZING_ENGINE and OUT set for
# clang-14 and libFuzzer, then checks every target it produces: present,
# runs its seed corpus, and has its seed corpus zip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# The route is real only if something schedules it and the image can build
# what the harness needs.
python3 - "$root" <<'PY' || exit 1
import re, sys, yaml
root = sys.argv[1]
def fail(message):
    print(f"clusterfuzzlite_test: {message}")
    sys.exit(1)
batch = yaml.safe_load(open(f"{root}/.github/workflows/cflite_batch.yml"))
triggers = batch.get(True) or batch.get("on")  # YAML 1.1 reads `on` as true
if not triggers or "schedule" not in triggers:
    fail("cflite_batch.yml is not scheduled")
steps = [s for job in batch["jobs"].values() for s in job["steps"]]
uses = {s.get("uses", "").split("@")[0]: s.get("with", {}) for s in steps}
if uses.get("google/clusterfuzzlite/actions/build_fuzzers", {}).get("language") != "c++":
    fail("cflite_batch.yml does not build the C++ fuzzers")
if uses.get("google/clusterfuzzlite/actions/run_fuzzers", {}).get("mode") != "batch":
    fail("cflite_batch.yml does not run them in batch mode")
docker = open(f"{root}/.clusterfuzzlite/Dockerfile").read()
tag = re.search(r"--branch (\d{8})\S* \\?\s*https://github.com/abseil/abseil-cpp", docker)
if not tag or tag.group(1) < "20220623":
    fail("the Dockerfile does not clone an abseil LTS of 20220623 or newer")
PY
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
