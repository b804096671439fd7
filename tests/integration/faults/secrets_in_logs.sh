#!/usr/bin/env bash
# No secret in any log: runs a pipeline whose failure message would carry a
# secret (a path given through ${file:...} that does not exist; a plain
# ${env:...} value of an option that is not secret is shown) and checks
# that its log, /status and /metrics show *** instead; then greps every log
# the other fault tests kept (they configure the same secrets, e.g. the
# PostgreSQL password) for the secret values.
TEST_NAME=faults_secrets_in_logs
. "$(dirname "$0")/lib.sh"

port="$(free_port)"
mkdir -p in
printf '%s\n' "$RDAPSYNC_FAULTS_SECRET_PATH" >secret-path.txt
echo '{"objectClassName":"domain","handle":"S-1"}' >in/a.jsonl
cat >run.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:$port" }
pipelines:
  - name: leaky
    source: { plugin: file, config: { path: "\${file:secret-path.txt}" } }
    sink: { plugin: file, config: { path: out/leaky.jsonl } }
    restart: { max_failures: 1 }
  - name: keepalive
    source: { plugin: file, config: { path: in, follow: true } }
    sink: { plugin: file, config: { path: out/keepalive.jsonl } }
YAML

FAIL_LOGS="$WORK/run.log"
start run.yaml run.log
wait_until "leaky/0 failed" task_is "$port" leaky 0 state failed
probe get "$port" /status >status.json || true
probe get "$port" /metrics >metrics.txt || true
kill -TERM "$RDAPSYNC_PID"
wait_exit
[[ "$STATUS" -eq 4 ]] || fail "exit status $STATUS, want 4 (a task failed without ever opening its plugins)"
# The check can fail: the failure is logged, with the secret masked.
grep -q 'open source file (run.yaml:[0-9]*:[0-9]*): path \*\*\*' run.log || fail "the failure line with the masked path is missing"
grep -q 'path \*\*\*' status.json || fail "/status does not show the masked reason"
keep_logs

secrets=("$RDAPSYNC_FAULTS_SECRET" "$RDAPSYNC_FAULTS_SECRET_PATH" "missing-dir-b41d6e02-secret")
files=("$FAULT_LOGS"/*.log status.json metrics.txt)
log "checking ${#files[@]} file(s): $(cd "$FAULT_LOGS" && ls | tr '\n' ' ')"
for s in "${secrets[@]}"; do
  if grep -lF -- "$s" "${files[@]}" >leaks.txt; then
    fail "a secret value appears in: $(tr '\n' ' ' <leaks.txt)"
  fi
done
log "PASS: no secret in ${#files[@]} log(s) and endpoint answers"
