#!/usr/bin/env bash
# (d) SIGTERM mid-run drains, flushes, checkpoints and exits 0; the next run
# completes; the output holds every record exactly once. Once while
# following (the run cannot have ended by itself), once on a bounded run.
source "$(dirname "$0")/lib.sh"

records=20000
generate "$records" 5 in.jsonl 1024
mkdir -p feed
ln -s "$work/in.jsonl" feed/in.jsonl

wait_for_lines() { # N: until the output has at least N lines (or 60 s)
  for _ in $(seq 1 600); do
    [ -f out/domains.jsonl ] && [ "$(wc -l <out/domains.jsonl)" -ge "$1" ] && return 0
    sleep 0.1
  done
  fail "the output never reached $1 lines"
}

note "following: SIGTERM while the data keeps coming"
write_config follow.yaml "$work/feed" "$work/out/domains.jsonl" all ", follow: true"
start follow.yaml follow.log
wait_for_lines 1
sleep_ms "$(random_ms 0 300)"
kill -TERM "$rdapsync_pid"
wait_exit
[ "$status" -eq 0 ] || { tail -20 follow.log; fail "SIGTERM while following: exit $status"; }
check prefix in.jsonl out/domains.jsonl
note "$(wc -l <out/domains.jsonl) lines after the first SIGTERM"

note "bounded: SIGTERM mid-run, then a run to the end"
write_config bounded.yaml "$work/feed" "$work/out/domains.jsonl"
start bounded.yaml bounded.log
sleep_ms "$(random_ms 20 200)"
kill -TERM "$rdapsync_pid" 2>/dev/null || true
wait_exit
[ "$status" -eq 0 ] || { tail -20 bounded.log; fail "SIGTERM on a bounded run: exit $status"; }
check prefix in.jsonl out/domains.jsonl
run bounded.yaml final.log
[ "$status" -eq 0 ] || { tail -20 final.log; fail "the last run exited $status"; }
check exactly-once in.jsonl out/domains.jsonl
check values-in-order in.jsonl out/domains.jsonl
echo "PASS sigterm"
