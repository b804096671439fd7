#!/usr/bin/env bash
# SIGHUP reloads, as /status shows them (tests/e2e/runtime/signals.sh
# covers the basic restart of a changed pipeline and the invalid-YAML
# case from the log):
#  - an unchanged pipeline keeps its running task: its counters go on from
#    where they were and its restart count stays 0 (a restarted one would
#    start again from zero);
#  - a changed pipeline restarts and resumes at its checkpoint: no record
#    twice, none lost;
#  - a removed pipeline stops and leaves /status;
#  - a file with schema errors is refused with each error's file:line:column,
#    and everything keeps running as before;
#  - a pipeline that had failed for good starts again when the reloaded
#    file fixes it;
#  - a changed http.listen is reported as needing a restart.
set -euo pipefail

: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
: "${RDAPSYNC_SOURCE_DIR:?RDAPSYNC_SOURCE_DIR is not set}"
export RDAPSYNC_PLUGIN_PATH RDAPSYNC_PROGRESS=off
probe() { python3 "$RDAPSYNC_SOURCE_DIR/tests/integration/faults/probe.py" "$@"; }

work=$(mktemp -d)
pid=
notify_pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  if [[ -n "$notify_pid" ]] && kill -0 "$notify_pid" 2>/dev/null; then kill "$notify_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; echo "--- log ---" >&2; tail -40 log.txt >&2 || true; exit 1; }
wait_for() { # DESCRIPTION CMD...: events decide; the bound only stops a hang
  local what=$1; shift
  for _ in $(seq 1 1200); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || fail "rdapsync exited while waiting for: $what"
    sleep 0.1
  done
  fail "timed out waiting for: $what"
}
field() { probe task "$port" "$1" "$2" "$3"; }
field_is() { [[ "$(field "$1" "$2" "$3")" == "$4" ]]; }
lines() { if [[ -f "$1" ]]; then wc -l <"$1"; else echo 0; fi; }
lines_are() { [[ "$(lines "$1")" -eq "$2" ]]; }
docs() { local i; for i in $(seq "$2" "$3"); do echo "{\"objectClassName\":\"domain\",\"handle\":\"$1-$i\"}"; done; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir in-keep in-change in-gone in-fixme
docs keep 1 10 >in-keep/1.jsonl
docs change 1 10 >in-change/1.jsonl
docs gone 1 10 >in-gone/1.jsonl
docs fixme 1 4 >in-fixme/1.jsonl
# fixme's sink first writes under a regular file: its open fails for good.
echo >blocker

# write_config MAX_RECORDS_OF_change WITH_gone OUTPUT_DIR_OF_fixme [LISTEN_PORT]
write_config() {
  cat >run.yaml <<YAML
state_dir: state
http: { listen: "127.0.0.1:${4:-$port}" }
pipelines:
  - name: keep
    source: { plugin: file, config: { path: in-keep, follow: true } }
    sink: { plugin: file, config: { path: out/keep.jsonl, format: value } }
    batch: { max_records: 5, max_wait: 20ms }
  - name: change
    source: { plugin: file, config: { path: in-change, follow: true } }
    sink: { plugin: file, config: { path: out/change.jsonl, format: value } }
    batch: { max_records: $1, max_wait: 20ms }
  - name: fixme
    source: { plugin: file, config: { path: in-fixme, follow: true } }
    sink: { plugin: file, config: { path: $3/fixme.jsonl, format: value } }
    restart: { max_failures: 1 }
YAML
  if [[ $2 == yes ]]; then
    cat >>run.yaml <<YAML
  - name: gone
    source: { plugin: file, config: { path: in-gone, follow: true } }
    sink: { plugin: file, config: { path: out/gone.jsonl, format: value } }
YAML
  fi
}

write_config 5 yes blocker
# systemd's notification socket, played by a datagram listener: READY=1 at
# start, RELOADING=1 / READY=1 around each reload, STOPPING=1 at the drain.
python3 - "$work/notify.sock" >notify.txt <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg = s.recv(4096).decode()
    print(msg.replace("\n", " "), flush=True)
    if msg.startswith("STOPPING=1"):
        break
PY
notify_pid=$!
for _ in $(seq 1 100); do [[ -S notify.sock ]] && break; sleep 0.05; done
NOTIFY_SOCKET="$work/notify.sock" "$RDAPSYNC_BIN" run run.yaml 2>log.txt &
pid=$!
wait_for "keep delivered 10" lines_are out/keep.jsonl 10
wait_for "change delivered 10" lines_are out/change.jsonl 10
wait_for "gone delivered 10" lines_are out/gone.jsonl 10
wait_for "fixme failed" field_is fixme 0 state failed
keep_in=$(field keep 0 records.in)
[[ "$keep_in" -eq 10 ]] || fail "keep has records.in $keep_in before the reload"

# Reload: change is changed, gone is removed, keep is untouched, fixme is
# fixed (its output now goes to a folder).
write_config 7 no out
kill -HUP "$pid"
gone_from_status() { ! probe task "$port" gone 0 state; }
wait_for "gone stopped and left /status" gone_from_status
wait_for "change restarted" field_is change 0 state running
wait_for "fixme running again" field_is fixme 0 state running
wait_for "fixme delivered 4" lines_are out/fixme.jsonl 4
[[ "$(field fixme 0 restarts)" == 0 ]] || fail "fixme's new start carries the old restart count"
[[ "$(field fixme 0 last_error)" == null ]] || fail "fixme's new start carries the old error"

docs keep 11 20 >>in-keep/1.jsonl
docs change 11 20 >>in-change/1.jsonl
docs gone 11 20 >>in-gone/1.jsonl
wait_for "keep delivered 20" lines_are out/keep.jsonl 20
wait_for "change delivered 20" lines_are out/change.jsonl 20
# keep's task was never replaced: its counters went on from 10.
[[ "$(field keep 0 records.in)" -eq 20 ]] || fail "keep's records.in is $(field keep 0 records.in), want 20 (was its task restarted?)"
[[ "$(field keep 0 restarts)" == 0 ]] || fail "keep was restarted"
# change's new task resumed at its checkpoint: it read only the 10 new lines.
[[ "$(field change 0 records.in)" -eq 10 ]] || fail "change read $(field change 0 records.in) records after its restart, want 10"
[[ "$(sort out/change.jsonl | uniq | wc -l)" -eq 20 ]] || fail "change has duplicates"
grep -q 'pipeline=keep msg="pipeline changed' log.txt && fail "keep was restarted by the reload"
[[ "$(lines out/gone.jsonl)" -eq 10 ]] || fail "the removed pipeline kept running"

# A file with schema errors: refused, each error with file:line:column.
cp run.yaml good.yaml
sed -i 's/max_records: 7/max_records: "many"/; s/format: value } }/format: value, colour: blue } }/' run.yaml
kill -HUP "$pid"
wait_for "the refusal" grep -q 'the running configuration stays' log.txt
grep -qE 'run\.yaml:[0-9]+:[0-9]+: .*max_records' log.txt || fail "the max_records error has no file:line:column"
grep -qE 'run\.yaml:[0-9]+:[0-9]+: .*colour' log.txt || fail "the unknown option error has no file:line:column"
docs keep 21 25 >>in-keep/1.jsonl
docs change 21 25 >>in-change/1.jsonl
wait_for "keep goes on after the refusal" lines_are out/keep.jsonl 25
wait_for "change goes on after the refusal" lines_are out/change.jsonl 25
[[ "$(field change 0 records.in)" -eq 15 ]] || fail "change was restarted by a refused file"

# A new listen address needs a restart: said, not done.
write_config 7 no out 1
kill -HUP "$pid"
wait_for "the http.listen warning" grep -q 'http.listen changed: it takes effect at the next start' log.txt
probe get "$port" /healthz >/dev/null || fail "the endpoint moved or stopped on reload"

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
wait "$notify_pid" || fail "the notification listener failed"
[[ "$(tr '\n' ' ' <notify.txt)" == "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 " ]] \
  || fail "systemd notifications: $(tr '\n' ' ' <notify.txt)"
# The exit status remembers that a slot failed during the run (before the
# reload fixed it) without ever opening its plugins: 4 (docs/architecture.md).
[[ $rc -eq 4 ]] || fail "exit status $rc, want 4"
echo ok
