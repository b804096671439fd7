#!/usr/bin/env bash
# A plugin directory that other users can write to is refused by validate
# and run (naming the directory and the YAML place), before any code of the
# plugin runs; --insecure-plugin-path loads it with a warning, which
# validate --strict treats as an error.
set -euo pipefail

: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
# Only the directory under test and the build's plugins.
work=$(mktemp -d)
trap 'chmod 700 "$work/open" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; for f in out.txt; do [ -f "$f" ] && cat "$f" >&2; done; exit 1; }

mkdir open
cp "$RDAPSYNC_PLUGIN_PATH/sink-discard.so" open/sink-discard.so
chmod 777 open
printf '{"objectClassName":"domain","handle":"H-1","ldhName":"one.example"}\n' >in.jsonl
cat >trust.yaml <<YAML
plugin_path: [ "$work/open" ]
state_dir: $work/state
pipelines:
  - name: p
    source: { plugin: file, config: { path: in.jsonl } }
    sink: { plugin: discard }
YAML

status=0
"$RDAPSYNC_BIN" validate trust.yaml >out.txt 2>&1 || status=$?
[ "$status" -eq 3 ] || fail "validate exited $status, want 3"
grep -q "trust.yaml:6:.*$work/open.*writable by its group and everyone" out.txt || fail "validate does not name the place and the directory"
grep -q "chmod go-w $work/open" out.txt || fail "validate does not say how to fix it"

status=0
"$RDAPSYNC_BIN" run trust.yaml >out.txt 2>&1 || status=$?
[ "$status" -eq 3 ] || fail "run exited $status, want 3"
grep -q "refused before loading" out.txt || fail "run does not say why"

status=0
"$RDAPSYNC_BIN" --insecure-plugin-path validate trust.yaml >out.txt 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "validate --insecure-plugin-path exited $status, want 0"
grep -q "warning.*loaded: --insecure-plugin-path" out.txt || fail "no warning under --insecure-plugin-path"

status=0
"$RDAPSYNC_BIN" validate --strict --insecure-plugin-path trust.yaml >out.txt 2>&1 || status=$?
[ "$status" -eq 3 ] || fail "validate --strict exited $status with an insecure plugin, want 3"

status=0
"$RDAPSYNC_BIN" --insecure-plugin-path run trust.yaml >out.txt 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "run --insecure-plugin-path exited $status, want 0"
grep -q "loading it anyway" out.txt || fail "run --insecure-plugin-path logged no warning"

chmod 755 open
status=0
"$RDAPSYNC_BIN" validate --strict trust.yaml >out.txt 2>&1 || status=$?
[ "$status" -eq 0 ] || fail "validate --strict exited $status once the directory is safe"
echo "PASS plugin_trust"
