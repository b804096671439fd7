#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/CMakeLists.txt (clang, ASan +
# UBSan) in their own build folder and runs each for a bounded time. A
# crash, a leak or a sanitizer report fails the run; the input that caused
# it is kept in the build folder's tests/fuzz/ (crash-*, leak-*, timeout-*).
#
#   tests/fuzz/run.sh                  every target, FUZZ_SECONDS each (default 60)
#   FUZZ_SECONDS=600 tests/fuzz/run.sh fuzz_config
#   FUZZ_BUILD=dir                     build folder (default build-fuzz)
#
# Seeds: tests/fuzz/corpus/<target without "fuzz_">/ when present, plus the
# RDAP fixtures (../shared/fixtures/rdap) for the transform targets and the
# example configurations (config/) for fuzz_config. What a run finds is
# kept in the build folder's corpus-<target>/ for the next run.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD:-$root/build-fuzz}
jobs=${JOBS:-2}

command -v clang >/dev/null || { echo "clang is needed (scripts/deps.sh test)"; exit 1; }
mkdir -p "$build"
# Warnings are the gcc build's job (-Werror there); clang may see others.
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRDAPSYNC_FUZZ=ON \
  -DRDAPSYNC_SANITIZE=ON -DRDAPSYNC_BUILD_TESTS=OFF -DRDAPSYNC_WERROR=OFF -DCMAKE_C_FLAGS=-Wno-unknown-warning-option \
  >"$build/fuzz-cmake.log" 2>&1 || { cat "$build/fuzz-cmake.log"; exit 1; }

targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(sed -n 's/^rdapsync_add_fuzzer(\([a-z0-9_]*\) .*/\1/p' tests/fuzz/CMakeLists.txt)
fi
# Everything: the targets, and the plugins fuzz_config loads. Keep going
# past a file that does not build: each target is judged on its own below.
cmake --build "$build" -j"$jobs" -- -k >"$build/fuzz-build.log" 2>&1 || grep -E 'error' "$build/fuzz-build.log" | head -20

failed=0
for t in "${targets[@]}"; do
  dir="$build/tests/fuzz"
  corpus="$dir/corpus-$t"
  mkdir -p "$corpus"
  seeds=()
  [[ -d "$root/tests/fuzz/corpus/${t#fuzz_}" ]] && seeds+=("$root/tests/fuzz/corpus/${t#fuzz_}")
  case "$t" in
    fuzz_config) seeds+=("$root/config") ;;
    *) [[ -d "$root/../shared/fixtures/rdap" ]] && seeds+=("$root/../shared/fixtures/rdap" "$root/../shared/fixtures/rdap/bad") ;;
  esac
  dict=()
  [[ -f "$root/tests/fuzz/$t.dict" ]] && dict=("-dict=$root/tests/fuzz/$t.dict")
  if [[ ! -x "$dir/$t" ]]; then
    echo "==> $t: FAILED to build (see $build/fuzz-build.log)"
    failed=1
    continue
  fi
  echo "==> $t for ${seconds}s"
  if (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "./$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${dict[@]}" "$corpus" "${seeds[@]}" </dev/null >"$dir/$t.log" 2>&1); then
    echo "==> $t: no finding in ${seconds}s ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/$t.log" | grep -o '[0-9]*$') runs)"
  else
    tail -40 "$dir/$t.log"
    echo "==> $t: FAILED (log and reproducer in $dir/)"
    failed=1
  fi
done
exit $failed
