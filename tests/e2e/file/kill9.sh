#!/usr/bin/env bash
# (b) kill -9 at random moments during a 20,000-record file -> file run,
# restarting each time, until a run exits 0. The output then holds every
# input record exactly once: no loss, no duplicate, no torn line.
source "$(dirname "$0")/lib.sh"

records=${KILL9_RECORDS:-20000}
generate "$records" 11 in.jsonl 1536
write_config run.yaml "$work/in.jsonl" "$work/out/domains.jsonl"
# Small batches: many flush/checkpoint windows for the kills to land in.
sed -i 's|max_records: 500|max_records: 200|' run.yaml

kills=0 attempts=0
while [ "$kills" -lt "${KILL9_POINTS:-6}" ]; do
  attempts=$((attempts + 1))
  [ "$attempts" -le 200 ] || fail "the run kept finishing before the kill ($kills kills in $attempts runs)"
  start run.yaml run.log
  sleep_ms "$(random_ms 30 400)"
  if kill -0 "$rdapsync_pid" 2>/dev/null; then
    kill -9 "$rdapsync_pid"
    wait_exit
    kills=$((kills + 1))
    have=$( [ -f out/domains.jsonl ] && wc -l <out/domains.jsonl || echo 0)
    note "kill $kills: $have lines in the output"
  else
    wait_exit
    [ "$status" -eq 0 ] || { tail -20 run.log; fail "a run exited $status before being killed"; }
    note "run finished before its kill point; starting over from scratch for more kills"
    rm -rf out state
  fi
done

note "restarting until a run completes"
for i in $(seq 1 20); do
  run run.yaml final.log
  [ "$status" -eq 0 ] && break
  tail -20 final.log
done
[ "$status" -eq 0 ] || fail "no run completed (last status $status)"
note "$(cat run.log final.log | grep -c 'bytes written after the last flush' || true) restart(s) cut an unflushed tail"
check exactly-once in.jsonl out/domains.jsonl
check lines out/domains.jsonl "$records"
[ ! -s out/dead.jsonl ] || fail "unexpected dead letters"
echo "PASS kill9 ($kills kills)"
