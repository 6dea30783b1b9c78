#!/usr/bin/env bash
# Builds targets of another git revision, the baseline a benchmark compares
# this build with (a speed-up's old code lives in git, not in the product).
#
#   bench/build_at.sh REV PRESET [TARGET...]
#
# Exports REV's tree (git archive) to build/baseline/<short rev>/src, builds
# PRESET there (only TARGETs if given) and prints the build directory. A
# second call reuses it.
set -euo pipefail
if (($# < 2)); then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
cd "$(dirname "$0")/.."
rev=$(git rev-parse --verify --short "$1^{commit}" 2>/dev/null) || {
  echo "bench/build_at.sh: '$1' is not a commit of this repository" >&2
  exit 2
}
preset=$2
shift 2
src="$PWD/build/baseline/$rev/src"
if [[ ! -f $src/CMakePresets.json ]]; then
  rm -rf "$src.tmp"
  mkdir -p "$src.tmp"
  git archive "$rev" | tar -x -C "$src.tmp"
  mv "$src.tmp" "$src"
fi
(
  cd "$src"
  cmake --preset "$preset" >/dev/null
  targets=()
  for target in "$@"; do targets+=(--target "$target"); done
  cmake --build --preset "$preset" -j "${SOCKPARITY_JOBS:-2}" "${targets[@]}" >&2
)
echo "$src/build/$preset"
