#!/usr/bin/env bash
# Several writers on the same keys at once: the guard is atomic on the
# server, so whatever the interleaving, each key ends at its greatest
# version. The changes (many versions of few keys, out of order, deletes)
# are dealt round-robin to three rdapsync processes that run at the same
# time, each with its own connection and staging keys; a fourth writes
# them all again in reverse order while the others run. The final state is
# rdapgen's expected one, with no staging key left behind.
TEST_NAME=redis_concurrent
. "$(dirname "$0")/lib.sh"

RDAPGEN="$(rdapgen_bin)"
drop_prefix
"$RDAPGEN" --format envelope --count 12000 --keys 300 --updates 0.5 --deletes 0.1 --duplicates 0.05 \
  --out-of-order 0.25 --origins 3 --size 600 --seed 23 --expected expected.jsonl -o changes.jsonl
for w in 0 1 2; do awk -v w="$w" 'NR % 3 == w' changes.jsonl >"part-$w.jsonl"; done
tac changes.jsonl >part-3.jsonl

pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; cleanup_work' EXIT
for w in 0 1 2 3; do
  cat >"writer-$w.yaml" <<YAML
state_dir: state-$w
pipelines:
  - name: writer$w
    source: { plugin: file, config: { path: part-$w.jsonl } }
    sink:
      plugin: redis
      config:
$(sink_config)
    batch: { max_records: 50, max_wait: 5ms }
    errors: { tolerance: none }
YAML
  rdapsync_run "writer-$w.yaml" "writer-$w.log" &
  pids+=($!)
done
for w in 0 1 2 3; do
  wait "${pids[$w]}" || { tail -n 20 "writer-$w.log" >&2; fail "writer $w failed"; }
done
assert_state expected.jsonl "four writers at once on 300 keys"
# Staging keys hold a NUL then "s:" after the prefix; none may remain.
left="$(rcli --scan --pattern "${PREFIX}*" | grep -c "^${PREFIX}.s:" || true)"
[[ "$left" == 0 ]] || fail "$left staging keys left behind"
log "each key at its greatest version, no staging key left"
drop_prefix
log "PASS"
