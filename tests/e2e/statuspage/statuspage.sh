#!/usr/bin/env bash
# The status page in headless Chromium (Debian's `chromium`), driven by
# playwright-core from npm (installed once into ~/.cache/rdapsync; the
# browser is always the system one, no browser download). rdapsync runs two
# pipelines: `flowing` follows a directory that browser.mjs appends to,
# `doomed` fails for good with an error text full of markup. browser.mjs
# says what is checked.
#
# RDAPSYNC_STATUS_SCREENSHOT=docs/img/status-page.png also writes the
# screenshot of the page (after a minute of varying input, so that the
# sparkline has something to show).
set -euo pipefail

: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
: "${RDAPSYNC_SOURCE_DIR:?RDAPSYNC_SOURCE_DIR is not set}"
export RDAPSYNC_PLUGIN_PATH RDAPSYNC_PROGRESS=off

PLAYWRIGHT_VERSION=1.65.2
CHROMIUM=${RDAPSYNC_CHROMIUM:-/usr/bin/chromium}
cache=${RDAPSYNC_CACHE_DIR:-$HOME/.cache/rdapsync}/playwright-core-$PLAYWRIGHT_VERSION

fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x "$CHROMIUM" ]] || fail "$CHROMIUM not found: install Debian's chromium (bash scripts/deps.sh test)"
command -v node >/dev/null || fail "node not found (bash scripts/deps.sh test)"
command -v npm >/dev/null || fail "npm not found (bash scripts/deps.sh test)"

# playwright-core has no dependencies and downloads nothing on install.
mkdir -p "$cache"
(
  flock 9
  if [[ ! -f "$cache/node_modules/playwright-core/package.json" ]]; then
    npm install --prefix "$cache" --no-audit --no-fund --no-save --ignore-scripts \
      "playwright-core@$PLAYWRIGHT_VERSION" >&2 || fail "npm install playwright-core@$PLAYWRIGHT_VERSION failed"
  fi
) 9>"$cache.lock"

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir in
for i in 1 2 3; do echo "{\"objectClassName\":\"domain\",\"handle\":\"first-$i\"}"; done >in/0.jsonl
# doomed's sink path goes under a regular file: its open fails for good,
# and the error names the path, markup and quotes included.
echo >blocker
cat >run.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$port" }
pipelines:
  - name: flowing
    source: { plugin: file, config: { path: in, follow: true } }
    sink: { plugin: file, config: { path: out/flowing.jsonl, format: value } }
    batch: { max_records: 50, max_wait: 20ms }
    errors:
      tolerance: all
      dead_letter: { plugin: file, config: { path: out/dead.jsonl } }
  - name: doomed
    source: { plugin: file, config: { path: in, follow: true } }
    sink: { plugin: file, config: { path: "blocker/<img src=x onerror=alert(1)><i>\"'&.jsonl", format: value } }
    restart: { max_failures: 1 }
YAML

"$RDAPSYNC_BIN" run run.yaml >log.txt 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$port/status" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { tail -20 log.txt >&2; fail "rdapsync exited"; }
  sleep 0.1
done

screenshot=${RDAPSYNC_STATUS_SCREENSHOT:-}
if [[ -n "$screenshot" && "$screenshot" != /* ]]; then screenshot="$RDAPSYNC_SOURCE_DIR/$screenshot"; fi
rc=0
NODE_PATH="$cache/node_modules" RDAPSYNC_CHROMIUM="$CHROMIUM" STATUS_URL="http://127.0.0.1:$port/" \
  INPUT_DIR="$work/in" PROFILE_DIR="$work/profile" SCREENSHOT="$screenshot" \
  node "$RDAPSYNC_SOURCE_DIR/tests/e2e/statuspage/browser.cjs" || rc=$?
if ((rc != 0)); then
  echo "--- log ---" >&2
  tail -30 log.txt >&2
  fail "browser checks failed"
fi
# A clean stop; under the sanitizer build its reports would be in the log.
kill -TERM "$pid"
wait "$pid" || true
pid=
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' log.txt; then
  grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' log.txt | head -60 >&2
  fail "the sanitizer reported an error"
fi
echo "PASS: status page in Chromium"
