#!/usr/bin/env bash
# Builds the fuzz targets with clang (ASan + UBSan + libFuzzer) in their own
# build directory and runs each for FUZZ_SECONDS (default 60), seeded with
# the RDAP fixtures (fuzz_config: with tests/fuzz/corpus/config and config/;
# fuzz_json: also with tests/fuzz/corpus/json).
# Fails on any crash, sanitizer report or broken invariant. CI calls this script.
#   FUZZ_SECONDS=60 FUZZ_BUILD_DIR=... tests/fuzz/run.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
# Inside the checkout: a build folder is tied to one source tree, and CI
# clones afresh into another folder each time.
build=${FUZZ_BUILD_DIR:-$repo/build-fuzz}
fixtures="$repo/tests/fixtures/rdap"
jobs=${FUZZ_BUILD_JOBS:-2}

command -v clang >/dev/null || { echo "FAIL: clang is needed for libFuzzer" >&2; exit 1; }
[ -d "$fixtures" ] || { echo "FAIL: no seed fixtures at $fixtures" >&2; exit 1; }

cmake -S "$repo" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-Wno-unknown-warning-option" -DCMAKE_CXX_FLAGS="-Wno-unknown-warning-option" \
  -DRDAPSYNC_FUZZ=ON -DRDAPSYNC_SANITIZE=ON -DRDAPSYNC_BUILD_TESTS=OFF >"$build.cmake.log" 2>&1 ||
  { cat "$build.cmake.log" >&2; echo "FAIL: cmake" >&2; exit 1; }
cmake --build "$build" --target fuzz_normalize fuzz_redact fuzz_json -j"$jobs" >"$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log" >&2; echo "FAIL: build" >&2; exit 1; }
# fuzz_config validates against the real plugins' option tables.
cmake --build "$build" --target fuzz_config rdapsync_source_file rdapsync_sink_file rdapsync_sink_discard \
  rdapsync_transform_normalize rdapsync_transform_redact rdapsync_transform_encrypt rdapsync_transform_decrypt \
  -j"$jobs" >>"$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log" >&2; echo "FAIL: build" >&2; exit 1; }

# Seeds: every fixture small enough to mutate usefully (the 1 MiB one is
# exercised by the unit tests); the corpus grows in the build directory,
# never in the fixtures.
seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
find "$fixtures" -name '*.json' -size -64k -exec cp {} "$seeds/" \;
for f in "$fixtures"/bad/*.json; do
  [ "$(wc -c <"$f")" -lt 65536 ] && cp "$f" "$seeds/bad-$(basename "$f")"
done
# The targets take one document per input: rdapgen's lines one by one.
for f in "$fixtures"/generated/*.jsonl; do
  split -l 1 -a 3 --additional-suffix=.json "$f" "$seeds/gen-$(basename "$f" .jsonl)-"
done

status=0
for target in fuzz_normalize fuzz_redact fuzz_json fuzz_config; do
  corpus="$build/corpus-$target"
  mkdir -p "$corpus"
  target_seeds=("$seeds") extra=()
  if [ "$target" = fuzz_config ]; then
    target_seeds=("$repo/tests/fuzz/corpus/config" "$repo/config")
    extra=("-dict=$repo/tests/fuzz/fuzz_config.dict")
  fi
  if [ "$target" = fuzz_json ]; then
    target_seeds=("$seeds" "$repo/tests/fuzz/corpus/json")
    extra=("-dict=$repo/tests/fuzz/fuzz_json.dict")
  fi
  echo "-- $target for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/$target-" "${extra[@]}" "$corpus" "${target_seeds[@]}" \
      </dev/null >"$build/$target.log" 2>&1; then
    tail -60 "$build/$target.log" >&2
    echo "FAIL: $target found a problem (artifacts: $build/$target-*)" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$target.log" || true
  fi
done
[ "$status" -eq 0 ] && echo "PASS fuzz: fuzz_normalize, fuzz_redact, fuzz_json, fuzz_config, ${seconds}s each"
exit "$status"
