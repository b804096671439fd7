#!/usr/bin/env bash
# Progress of a bounded run: plain log lines when stderr is not a terminal,
# a status line redrawn in place on a terminal (a pty from script(1)). The
# run is held long enough for several reports by a sink that answers RETRY
# to its first writes (each retry waits at least its backoff).
TEST_NAME=faults_progress
. "$(dirname "$0")/lib.sh"

[[ -f "$FAULT_PLUGINS/sink-flaky.so" ]] || fail "no $FAULT_PLUGINS/sink-flaky.so"
"$(rdapgen_bin)" --count 2000 --size 800 --seed 16 -o in.jsonl

write_config() { # FILE STATE_DIR
  cat >"$1" <<YAML
state_dir: $2
plugin_path: ["$FAULT_PLUGINS"]
pipelines:
  - name: backfill
    source: { plugin: file, config: { path: in.jsonl } }
    sink: { plugin: flaky, config: { fail_writes: 8, answer: retry } }
    batch: { max_records: 100, max_wait: 20ms }
    retry: { backoff_initial: 200ms, backoff_max: 200ms }
YAML
}

write_config plain.yaml state-plain
RDAPSYNC_PROGRESS=plain RDAPSYNC_PROGRESS_INTERVAL=100ms "$RDAPSYNC_BIN" run plain.yaml >plain.log 2>&1 \
  || fail "the plain run exited $?"
grep -E 'pipeline=backfill msg="progress: backfill [0-9.]+% [0-9.]+/[0-9.]+ MiB, [0-9,]+ records.*, [0-9,]+ records/s, ETA ' plain.log \
  >progress-lines.txt || fail "no plain progress line"
log "$(wc -l <progress-lines.txt) plain progress lines, e.g. $(head -1 progress-lines.txt | sed 's/.*msg=//')"

command -v script >/dev/null || fail "script(1) (util-linux) is needed for the terminal case"
write_config tty.yaml state-tty
RDAPSYNC_PROGRESS=auto RDAPSYNC_PROGRESS_INTERVAL=100ms \
  script -qec "'$RDAPSYNC_BIN' run tty.yaml" /dev/null >tty.log 2>&1 || fail "the terminal run failed"
# The status line: drawn without a newline, cleared (CR, erase line) before
# each log line; never written as a log line.
grep -qa $'\r\033\[K' tty.log || fail "no status line was cleared on the terminal"
grep -qaE 'backfill [0-9.]+% .* records/s, ETA ' tty.log || fail "no status line on the terminal"
grep -qa 'msg="progress: backfill' tty.log && fail "progress went to the log on a terminal"
grep -qa 'exiting with status 0' tty.log || fail "the terminal run did not end cleanly"
log "PASS"
