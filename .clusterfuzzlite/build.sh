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
         script_parser lifecycle address_parser client_report)
absl_modules="absl_status absl_statusor absl_strings absl_str_format absl_time absl_cord"
work_root="${WORK:-$(mktemp -d)}"
work="$work_root/sockparity-objects"
mkdir -p "$work"

# OSS-Fuzz's base image (Ubuntu 20.04) has no abseil, and a distribution's
# would not be built with the fuzzing flags: the Dockerfile clones the LTS
# release the harness is tested with into $SRC/abseil-cpp, built here with
# $CXX and $CXXFLAGS. Without that source (a machine with libabsl-dev, as
# ci/test runs it), pkg-config finds the installed one.
absl_source="${SOCKPARITY_ABSEIL_SOURCE:-${SRC:-/nonexistent}/abseil-cpp}"
if [[ -f "$absl_source/CMakeLists.txt" ]]; then
  absl_prefix="$work_root/abseil"
  if [[ ! -f "$absl_prefix/lib/pkgconfig/absl_status.pc" ]]; then
    echo "build.sh: building abseil from $absl_source into $absl_prefix"
    cmake -S "$absl_source" -B "$work_root/abseil-build" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_C_FLAGS="${CFLAGS:-}" \
        -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_CXX_STANDARD=20 \
        -DABSL_PROPAGATE_CXX_STD=ON -DABSL_BUILD_TESTING=OFF -DABSL_ENABLE_INSTALL=ON \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_LIBDIR=lib \
        -DCMAKE_INSTALL_PREFIX="$absl_prefix" >"$work_root/abseil-configure.log"
    cmake --build "$work_root/abseil-build" -j "$(nproc)" >"$work_root/abseil-build.log"
    cmake --install "$work_root/abseil-build" >/dev/null
  fi
  export PKG_CONFIG_PATH="$absl_prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi
absl_cflags=$(pkg-config --cflags $absl_modules)
# --static: a source build installs archives, whose order pkg-config keeps.
absl_libs=$(pkg-config --libs --static $absl_modules)
# The version CMake gives the check library (project(... VERSION ...)).
version=$(sed -n 's/^project(sockparity VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
flags=(-std=c++20 -I"$root/harness/include" -I"$root/harness"
       -DSOCKPARITY_VERSION="\"${version:-unknown}\"" $absl_cflags $CXXFLAGS)

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
