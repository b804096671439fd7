#!/usr/bin/env bash
# A file source whose path does not exist:
#  - validate warns at the place of the path value and still says ok;
#  - run with follow: false fails at once: one error naming the path and
#    where the source is configured, exit 4, no restart (the default
#    restart settings would otherwise try five times);
#  - run with follow: true says once that it waits, then reads the file
#    once it is created.
source "$(dirname "$0")/lib.sh"

# wait_for DESCRIPTION CMD...: the command decides; the bound only stops a hang.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 1200); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$rdapsync_pid" 2>/dev/null || fail "rdapsync exited while waiting for: $what"
    sleep 0.1
  done
  fail "timed out waiting for: $what"
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
lines_are() { [ "$(lines "$1")" -eq "$2" ]; }

cat >bounded.yaml <<YAML
state_dir: state
pipelines:
  - name: bounded
    source:
      plugin: file
      config: { path: in/later.jsonl }
    sink: { plugin: file, config: { path: out/bounded.jsonl } }
YAML

note "validate warns at the path and says ok"
"$RDAPSYNC_BIN" validate bounded.yaml >validate.out 2>validate.err || fail "validate failed: $(cat validate.err)"
grep -q "^bounded.yaml:6:23: warning: pipeline 'bounded': source 'file': path 'in/later.jsonl' does not exist.*\[input-missing\]$" \
  validate.err || fail "no input-missing warning at 6:23: $(cat validate.err)"
grep -q "bounded.yaml: ok (1 pipeline)" validate.out || fail "validate did not say ok: $(cat validate.out)"

note "run without follow fails at once, once"
run bounded.yaml bounded.log
[ "$status" -eq 4 ] || { cat bounded.log; fail "exit status $status, want 4 (could not start)"; }
[ "$(grep -c 'task failed' bounded.log)" -eq 1 ] || { cat bounded.log; fail "the failure is not reported exactly once"; }
grep -q 'restarting task' bounded.log && { cat bounded.log; fail "a missing input was retried"; }
grep -q 'task failed: open source file (bounded.yaml:5:7): path in/later.jsonl does not exist' bounded.log ||
  { cat bounded.log; fail "the error does not name the path and the source's place"; }

note "run with follow waits for the file, then reads it"
sed 's/{ path: in\/later.jsonl }/{ path: in\/later.jsonl, follow: true }/; s/bounded/follow/g' bounded.yaml >follow.yaml
start follow.yaml follow.log
wait_for "the waiting line" grep -q 'waiting for it to appear' follow.log
mkdir -p in
generate 3 5 in/later.tmp
mv in/later.tmp in/later.jsonl
wait_for "3 records delivered" lines_are out/follow.jsonl 3
kill -TERM "$rdapsync_pid"
wait_exit
[ "$status" -eq 0 ] || { cat follow.log; fail "exit status $status after SIGTERM, want 0"; }
[ "$(grep -c 'waiting for it to appear' follow.log)" -eq 1 ] || { cat follow.log; fail "the wait is not said exactly once"; }
grep -q 'in/later.jsonl appeared: reading it' follow.log || { cat follow.log; fail "no line about the file appearing"; }
echo "PASS missing_input"
