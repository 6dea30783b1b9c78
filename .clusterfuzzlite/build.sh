#!/bin/bash -eu
# Builds sockparity's fuzz targets the way OSS-Fuzz and ClusterFuzzLite
# expect: with $CXX and $CXXFLAGS, linked with $LIB_FUZZING_ENGINE, into
# $OUT, each with its seed corpus as <target>_seed_corpus.zip and, where one
# exists, its dictionary as <target>.dict.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n "${SRC:-}" && -d "$SRC/sockparity/harness" ]]; then
  root="$SRC/sockparity"
fi
: "${CXX:?set CXX}" "${OUT:?set OUT}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CXXFLAGS="${CXXFLAGS:-}"
targets=(length_prefixed_decoder varint_decoder delimited_decoder codec_roundtrip
         script_parser lifecycle address_parser)
absl_modules="absl_status absl_statusor absl_strings absl_str_format absl_time absl_cord"
absl_cflags=$(pkg-config --cflags $absl_modules)
absl_libs=$(pkg-config --libs $absl_modules)

work="${WORK:-$(mktemp -d)}/sockparity-objects"
mkdir -p "$work"
flags=(-std=c++20 -I"$root/harness/include" -I"$root/harness" $absl_cflags $CXXFLAGS)

# The harness's layers (not the GoogleTest helpers), compiled once, two
# files at a time.
objects=()
pids=()
for source in "$root"/harness/{net,codec,script,check,check/cases}/*.cc; do
  name=$(realpath --relative-to="$root/harness" "$source" | tr / _)
  name=${name%.cc}
  "$CXX" "${flags[@]}" -c "$source" -o "$work/$name.o" &
  pids+=($!)
  objects+=("$work/$name.o")
  if ((${#pids[@]} >= 2)); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

for target in "${targets[@]}"; do
  "$CXX" "${flags[@]}" "$root/fuzz/$target.cc" "${objects[@]}" \
      $LIB_FUZZING_ENGINE $absl_libs -lpthread -o "$OUT/$target"
  seeds="$root/corpus/$target"
  if [[ -d "$seeds" ]]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "$seeds" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
  fi
  if [[ -f "$root/corpus/$target.dict" ]]; then
    cp "$root/corpus/$target.dict" "$OUT/$target.dict"
  fi
done
echo "built ${#targets[@]} fuzz targets into $OUT"
