#!/usr/bin/env bash
# What the daemon writes to the audit trail while it runs: the retention
# job purges on its interval (an "interval" retention line, the metric on
# /metrics), and a SIGHUP that changes a pipeline's redaction policy file is
# a policy_change line, while one that changes nothing is not.
set -euo pipefail
: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
: "${RDAPSYNC_SOURCE_DIR:?RDAPSYNC_SOURCE_DIR is not set}"
export RDAPSYNC_PLUGIN_PATH RDAPSYNC_PROGRESS=off
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
fail() { echo "FAIL: $*" >&2; tail -30 log.txt >&2 || true; exit 1; }
wait_for() { # DESCRIPTION CMD...: events decide; the bound only stops a hang
  local what=$1; shift
  for _ in $(seq 1 1200); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "rdapsync exited while waiting for: $what"
    sleep 0.1
  done
  fail "timed out waiting for: $what"
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | base64 >audit.key
cat >policy.yaml <<'YAML'
name: short
retention_days: { personal: 1, business-sensitive: 1, public: 1 }
rules:
  - fields: [fax]
    method: removal
YAML
mkdir in
cp "$RDAPSYNC_SOURCE_DIR/tests/fixtures/rdap/domain-full.json" in/
cat >cfg.yaml <<YAML
state_dir: $work/state
http: { listen: "127.0.0.1:$port" }
audit: { path: $work/audit.log, key: "\${file:$work/audit.key}" }
pipelines:
  - name: expiring
    source: { plugin: file, config: { path: "$work/in", follow: true } }
    transforms:
      - { plugin: normalize, config: { error_value: clear } }
      - { plugin: redact, config: { policy: "$work/policy.yaml" } }
    sink: { plugin: file, config: { path: "$work/out.jsonl" } }
    retention: { interval: 1s }
YAML
"$RDAPSYNC_BIN" run cfg.yaml >log.txt 2>&1 &
pid=$!
wait_for "the record in the sink" grep -q D918273645-EXAMPLE out.jsonl
wait_for "a retention run of the job" grep -q '"event":"retention","trigger":"interval","pipeline":"expiring","task":0,"purged":1' audit.log
grep -q D918273645-EXAMPLE out.jsonl && fail "the job did not purge the expired record"
curl -s "http://127.0.0.1:$port/metrics" | grep -q '^rdapsync_retention_purged_total{pipeline="expiring"} 1$' ||
  fail "rdapsync_retention_purged_total does not count the purge"

changes() { grep -c '"event":"policy_change"' audit.log || true; }
kill -HUP "$pid"
wait_for "the reload" grep -q "SIGHUP: reloading" log.txt
[[ "$(changes)" -eq 0 ]] || fail "a reload that changed nothing wrote a policy_change line"
sed -i 's/method: removal/method: emptyValue/' policy.yaml
kill -HUP "$pid"
wait_for "a policy_change line" grep -q '"event":"policy_change","pipeline":"expiring"' audit.log
[[ "$(changes)" -eq 1 ]] || fail "expected one policy_change line, found $(changes)"
kill -TERM "$pid"
wait "$pid" || fail "rdapsync exited $?"
pid=
"$RDAPSYNC_BIN" audit verify audit.log || fail "the daemon's trail does not verify"
echo "PASS daemon"
