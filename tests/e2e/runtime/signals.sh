#!/usr/bin/env bash
# rdapsync run: SIGTERM drains and exits 0, SIGHUP reloads only changed
# pipelines and keeps the running config when the new one is invalid, a
# second SIGTERM exits 130 at once, a task that keeps failing exits 1,
# and a restart resumes from the checkpoint without duplicates.
set -euo pipefail

: "${RDAPSYNC_BIN:?RDAPSYNC_BIN is not set}"
: "${RDAPSYNC_PLUGIN_PATH:?RDAPSYNC_PLUGIN_PATH is not set}"
export RDAPSYNC_PLUGIN_PATH

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; echo "--- log ---" >&2; cat log.txt >&2 2>/dev/null || true; exit 1; }

# Waits until log.txt has `count` lines matching `pattern` (events, not time,
# decide; the loop bound only stops a hung daemon from hanging the test).
wait_log() {
    local pattern=$1 count=${2:-1}
    for _ in $(seq 1 600); do
        if [[ $(grep -c -- "$pattern" log.txt 2>/dev/null || true) -ge $count ]]; then return 0; fi
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then fail "daemon exited while waiting for: $pattern"; fi
        sleep 0.1
    done
    fail "timed out waiting for $count x: $pattern"
}

lines() { if [[ -f "$1" ]]; then wc -l < "$1"; else echo 0; fi; }

wait_lines() {
    local file=$1 want=$2
    for _ in $(seq 1 600); do
        [[ $(lines "$file") -ge $want ]] && return 0
        sleep 0.1
    done
    fail "$file has $(lines "$file") lines, want $want"
}

docs() { for i in $(seq "$1" "$2"); do echo "{\"objectClassName\":\"domain\",\"handle\":\"D$i\",\"ldhName\":\"d$i.example\"}"; done; }

write_config() { # $1 = max_records of pipeline a, $2 = extra pipeline yes/no
    cat > run.yaml <<YAML
state_dir: state
pipelines:
  - name: a
    source: { plugin: file, config: { path: in-a, follow: true } }
    sink: { plugin: file, config: { path: out/a.jsonl, format: value } }
    batch: { max_records: $1, max_wait: 20ms }
  - name: b
    source: { plugin: file, config: { path: in-b, follow: true } }
    sink: { plugin: file, config: { path: out/b.jsonl, format: value } }
    batch: { max_records: 5, max_wait: 20ms }
YAML
    if [[ $2 == yes ]]; then
        cat >> run.yaml <<YAML
  - name: c
    source: { plugin: file, config: { path: in-b, follow: true } }
    sink: { plugin: file, config: { path: out/c.jsonl, format: value } }
YAML
    fi
}

# ---- drain, reload, resume ----
mkdir in-a in-b
docs 1 20 > in-a/1.jsonl
docs 1 10 > in-b/1.jsonl
write_config 7 no
"$RDAPSYNC_BIN" run run.yaml 2> log.txt &
pid=$!
wait_log 'task started' 2
wait_lines out/a.jsonl 20
wait_lines out/b.jsonl 10

# A reload that changes pipeline a only, and adds c.
write_config 9 yes
kill -HUP "$pid"
wait_log 'pipeline=a msg="pipeline changed: restarting"'
wait_log 'pipeline=c msg="pipeline started'
grep -q 'pipeline=b msg="pipeline changed' log.txt && fail "unchanged pipeline b was restarted"
wait_log 'task started' 4
docs 21 30 >> in-a/1.jsonl
wait_lines out/a.jsonl 30
wait_lines out/c.jsonl 10

# An invalid file: the running configuration stays.
echo "pipelines: [ {name: " > run.yaml
kill -HUP "$pid"
wait_log 'the running configuration stays'
docs 31 35 >> in-a/1.jsonl
wait_lines out/a.jsonl 35

kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
[[ $rc -eq 0 ]] || fail "SIGTERM exit status $rc, want 0"
grep -q 'exiting with status 0' log.txt || fail "no exit line"
[[ $(lines out/a.jsonl) -eq 35 ]] || fail "a has $(lines out/a.jsonl) lines, want 35 (no duplicates)"
[[ $(sort out/a.jsonl | uniq | wc -l) -eq 35 ]] || fail "duplicates in out/a.jsonl"
grep -q '"offset"' state/a/task-0/checkpoint.json || fail "no checkpoint for a"

# Restart: resumes after the checkpoint.
write_config 9 no
docs 36 40 >> in-a/1.jsonl
"$RDAPSYNC_BIN" run run.yaml 2> log.txt &
pid=$!
wait_lines out/a.jsonl 40
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
[[ $rc -eq 0 ]] || fail "second run exit status $rc"
[[ $(lines out/a.jsonl) -eq 40 ]] || fail "after restart a has $(lines out/a.jsonl) lines, want 40"

# ---- a second signal exits at once with 130 ----
# The process is stopped while SIGTERM and SIGINT arrive (two different
# signals, so both stay pending); on resume the main loop reads both: the
# first starts the drain, the second finds it draining.
cat > slow.yaml <<YAML
state_dir: state
pipelines:
  - name: s
    source: { plugin: file, config: { path: in-a, follow: true } }
    sink: { plugin: file, config: { path: out/s.jsonl, format: value } }
YAML
"$RDAPSYNC_BIN" run slow.yaml 2> log.txt &
pid=$!
wait_log 'task started'
kill -STOP "$pid"
kill -TERM "$pid"
kill -INT "$pid"
kill -CONT "$pid"
rc=0; wait "$pid" || rc=$?
pid=
[[ $rc -eq 130 ]] || fail "second signal exit status $rc, want 130"
grep -q 'exiting at once' log.txt || fail "no line about the immediate exit"

# ---- a task that keeps failing: exit 1 ----
mkdir in-bad
docs 1 3 > in-bad/1.jsonl
echo '{"broken": ' >> in-bad/1.jsonl
cat > bad.yaml <<YAML
state_dir: state
pipelines:
  - name: strict
    source: { plugin: file, config: { path: in-bad } }
    sink: { plugin: file, config: { path: out/strict.jsonl, format: value } }
    restart: { max_failures: 2, window: 1h, backoff_initial: 10ms, backoff_max: 20ms }
    errors: { tolerance: none }
YAML
rc=0; "$RDAPSYNC_BIN" run bad.yaml 2> log.txt || rc=$?
[[ $rc -eq 1 ]] || fail "failing task exit status $rc, want 1"
grep -q 'giving up' log.txt || fail "no give-up line"
grep -q 'tolerance none' log.txt || fail "the failure does not name the tolerance rule"
[[ $(lines out/strict.jsonl) -eq 3 ]] || fail "the records before the bad one are delivered once: $(lines out/strict.jsonl)"
echo "ok"
