#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what is missing,
# builds with the tests (plain and ASan+UBSan), starts the real servers on
# loopback, runs unit, end-to-end and integration tests, stops the servers,
# runs the bounded fuzz runs and the README's quickstart on a fresh Debian 12
# root (tests/fresh/quickstart_fresh_root.sh). Ends with one line
# "N passed, N failed".
#
# Its builds go to build-test/ (servers' data in build-test/servers),
# build-test-asan/ and build-test-fuzz/; the quickstart's build/ is left alone.
#
#   scripts/test.sh            everything
#   SKIP_FUZZ=1 scripts/test.sh
#   SKIP_ASAN=1 scripts/test.sh
#   SKIP_FRESH_ROOT=1 scripts/test.sh   (for developers; CI runs it)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
jobs=${JOBS:-2}

log() { printf '\n==> %s\n' "$*"; }
passed=0
failed=0
failures=()
record() { # name rc
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$1"); fi
}

log "dependencies"
bash scripts/deps.sh test || { echo "dependency installation failed"; exit 1; }

build="build-test"
log "build with the tests into $build/ (RelWithDebInfo, -Werror)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRDAPSYNC_WERROR=ON -DRDAPSYNC_BUILD_TESTS=ON >/dev/null || exit 1
cmake --build "$build" -j"$jobs" || exit 1

servers=(postgres mariadb kafka ferretdb rdap redis otelcol kafka-connect)
export RDAPSYNC_SERVERS_DIR="$root/$build/servers"
stop_servers() { bash scripts/servers/all.sh stop "${servers[@]}" >/dev/null 2>&1 || true; }
trap stop_servers EXIT
log "servers: ${servers[*]}"
if ! bash scripts/servers/all.sh start "${servers[@]}"; then
  echo "could not start the test servers"; exit 1
fi
for s in "${servers[@]}"; do eval "$(bash scripts/servers/$s.sh env)"; done

run_ctest() { # dir label-regex name
  local dir=$1 labels=$2 name=$3 out
  out=$(mktemp)
  ctest --test-dir "$dir" -L "$labels" --output-on-failure --timeout 1200 -j1 2>&1 | tee "$out"
  # Count each CTest test as one result.
  local p f
  p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* +Passed' "$out" || true)
  f=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|Failed|Timeout|Not Run)' "$out" || true)
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then failures+=("$name: $(grep -E '^\s+[0-9]+ - ' "$out" | tr -s ' ' | paste -sd, -)"); fi
  rm -f "$out"
}

log "tests: unit, e2e, integration"
run_ctest "$build" 'unit|e2e|integration' plain

if [ -z "${SKIP_ASAN:-}" ]; then
  log "build with AddressSanitizer + UndefinedBehaviorSanitizer into $build-asan/"
  cmake -S . -B "$build-asan" -DCMAKE_BUILD_TYPE=Debug -DRDAPSYNC_SANITIZE=ON -DRDAPSYNC_BUILD_TESTS=ON >/dev/null || exit 1
  if cmake --build "$build-asan" -j"$jobs"; then
    log "tests under ASan+UBSan: unit, e2e and the hostile-input integration tests"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      run_ctest "$build-asan" 'unit|e2e|asan' asan
  else
    record "asan build" 1
  fi
fi

# The rest needs no server.
log "stopping the servers"
stop_servers

if [ -z "${SKIP_FUZZ:-}" ] && [ -f tests/fuzz/run.sh ]; then
  log "fuzzing (bounded)"
  FUZZ_SECONDS=${FUZZ_SECONDS:-60} FUZZ_BUILD_DIR="$root/$build-fuzz" bash tests/fuzz/run.sh
  record fuzz $?
fi

if [ -z "${SKIP_FRESH_ROOT:-}" ]; then
  log "the quickstart on a fresh Debian 12 root"
  RDAPSYNC_FRESH_DIR="$root/$build/fresh-root" bash tests/fresh/quickstart_fresh_root.sh
  record fresh-root $?
else
  log "the quickstart on a fresh Debian 12 root: skipped (SKIP_FRESH_ROOT is set)"
fi

echo
if [ "$failed" -ne 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "rdapsync: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
