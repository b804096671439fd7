#!/usr/bin/env bash
# A plugin that fails N times in a row: with restart.max_failures 3, a sink
# whose writes always fail ends its task in the failed state after exactly
# 3 attempts (2 restarts), and /status, /metrics and /healthz say so; a sink
# that fails twice recovers on the third attempt; a third pipeline keeps
# moving records the whole time. The logs are JSON lines here, each one
# parseable and labelled.
TEST_NAME=faults_plugin_fails
. "$(dirname "$0")/lib.sh"

[[ -f "$FAULT_PLUGINS/sink-flaky.so" ]] || fail "no $FAULT_PLUGINS/sink-flaky.so (build the rdapsync_test_sink_flaky target)"
port="$(free_port)"
mkdir -p in-doomed in-survivor in-steady
docs() { local i; for i in $(seq "$2" "$3"); do printf '{"objectClassName":"domain","handle":"%s-%d","ldhName":"d%d.example"}\n' "$1" "$i" "$i"; done; }
docs doomed 1 20 >in-doomed/a.jsonl
docs survivor 1 20 >in-survivor/a.jsonl
docs steady 1 10 >in-steady/a.jsonl

cat >run.yaml <<YAML
state_dir: state
plugin_path: ["$FAULT_PLUGINS"]
http: { listen: "127.0.0.1:$port" }
log: { format: json }
pipelines:
  - name: doomed
    source: { plugin: file, config: { path: in-doomed, follow: true } }
    sink: { plugin: flaky, config: { fail_writes: -1 } }
    batch: { max_records: 5, max_wait: 20ms }
    restart: { max_failures: 3, window: 10m, backoff_initial: 50ms, backoff_max: 200ms }
  - name: survivor
    source: { plugin: file, config: { path: in-survivor, follow: true } }
    sink: { plugin: flaky, config: { fail_writes: 2 } }
    batch: { max_records: 5, max_wait: 20ms }
    restart: { max_failures: 3, window: 10m, backoff_initial: 50ms, backoff_max: 200ms }
  - name: steady
    source: { plugin: file, config: { path: in-steady, follow: true } }
    sink: { plugin: file, config: { path: out/steady.jsonl, format: value } }
    batch: { max_records: 5, max_wait: 20ms }
YAML

FAIL_LOGS="$WORK/run.log"
start run.yaml run.log
wait_until "/status answers" probe get "$port" /status
wait_until "doomed/0 failed" task_is "$port" doomed 0 state failed

# The failed task, as /status tells it.
[[ "$(probe task "$port" doomed 0 circuit)" == open ]] || fail "doomed/0 circuit is not open"
[[ "$(probe task "$port" doomed 0 restarts)" == 2 ]] \
  || fail "doomed/0 restarted $(probe task "$port" doomed 0 restarts) times, want 2 (3 attempts, then the limit)"
last_error="$(probe task "$port" doomed 0 last_error)"
[[ "$last_error" == *"flaky: planned failure 3 of -1"* ]] || fail "doomed/0 last_error: $last_error"
[[ "$(cat state/doomed/task-0/flaky.failures)" == 3 ]] || fail "the sink was called $(cat state/doomed/task-0/flaky.failures) times, want 3"

# ... and /metrics.
[[ "$(probe metric "$port" 'rdapsync_task_state{pipeline="doomed",task="0",state="failed"}')" == 1 ]] \
  || fail "/metrics does not show doomed/0 failed"
[[ "$(probe metric "$port" 'rdapsync_task_circuit_open{pipeline="doomed",task="0"}')" == 1 ]] \
  || fail "/metrics does not show the circuit of doomed/0 open"
[[ "$(probe metric "$port" 'rdapsync_task_restarts_total{pipeline="doomed",task="0"}')" == 2 ]] \
  || fail "/metrics restarts of doomed/0"
[[ "$(probe metric "$port" 'rdapsync_task_records_out_total{pipeline="doomed",task="0"}')" == 0 ]] \
  || fail "doomed/0 delivered records through a sink that always fails"
[[ "$(probe code "$port" /healthz)" == 503 ]] || fail "/healthz does not report the failed slot"
health="$(probe get "$port" /healthz || true)"
grep -qx 'doomed/0 failed' <<<"$health" || fail "/healthz does not name doomed/0: $health"

# The survivor failed twice and then delivered everything.
wait_until "survivor delivered 20 records" \
  metric_is "$port" 'rdapsync_task_records_out_total{pipeline="survivor",task="0"}' 20
[[ "$(probe task "$port" survivor 0 state)" == running ]] || fail "survivor/0 is $(probe task "$port" survivor 0 state)"
[[ "$(probe task "$port" survivor 0 circuit)" == closed ]] || fail "survivor/0 circuit is not closed"
[[ "$(probe task "$port" survivor 0 restarts)" == 2 ]] || fail "survivor/0 restarts"

# The steady pipeline keeps running after the failure: new lines arrive.
wait_until "steady delivered its first 10" lines_at_least out/steady.jsonl 10
docs steady 11 30 >>in-steady/a.jsonl
wait_until "steady delivered 30 after doomed failed" lines_at_least out/steady.jsonl 30
[[ "$(wc -l <out/steady.jsonl)" -eq 30 ]] || fail "steady wrote $(wc -l <out/steady.jsonl) lines, want 30"
[[ "$(probe task "$port" steady 0 restarts)" == 0 ]] || fail "steady/0 was restarted"
[[ "$(probe code "$port" /readyz)" == 503 ]] || fail "/readyz is 200 with a failed task"

# The Grafana dashboard is built on names /metrics really has.
probe get "$port" /metrics >metrics.txt
python3 - "$RDAPSYNC_SOURCE_DIR/docs/grafana-dashboard.json" metrics.txt <<'PY' || fail "docs/grafana-dashboard.json uses names /metrics does not have"
import json, re, sys
dash = json.load(open(sys.argv[1]))
served = {re.split(r"[{ ]", l)[0] for l in open(sys.argv[2]) if l.startswith("rdapsync_")}
used = {m for p in dash["panels"] for t in p["targets"] for m in re.findall(r"rdapsync_task_[a-z_]+", t["expr"])}
missing = sorted(u for u in used if u not in served)
assert used and not missing, f"not served: {missing}"
PY

kill -TERM "$RDAPSYNC_PID"
wait_exit
[[ "$STATUS" -eq 1 ]] || fail "exit status $STATUS after a task failed for good, want 1"

# JSON logs: every line one object; task lines name their pipeline and task,
# plugin lines their kind and plugin too.
python3 - run.log <<'PY' || fail "JSON log check"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "empty log"
plugin_lines = 0
for n, line in enumerate(lines, 1):
    o = json.loads(line)
    for k in ("ts", "level", "msg"):
        assert k in o, f"line {n} has no {k}: {line}"
    if "task" in o:
        assert "pipeline" in o, f"line {n}: task without pipeline: {line}"
    if "plugin" in o and o["plugin"] != "http":
        assert "pipeline" in o and "task" in o and "kind" in o, f"line {n}: plugin line without labels: {line}"
        plugin_lines += 1
assert plugin_lines > 0, "no plugin line to check"
failed = [json.loads(l) for l in lines if "giving up" in l]
assert len(failed) == 1 and failed[0]["pipeline"] == "doomed" and failed[0]["task"] == 0, failed
PY
log "PASS"
