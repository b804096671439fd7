#!/usr/bin/env python3
"""Checks of the fault tests' outputs.

  check.py once INPUT OUTPUT
      OUTPUT (file sink, envelope format) holds every record of INPUT exactly
      once: one line per input line, by source position, none torn.
  check.py state OUTPUT EXPECTED
      Folding OUTPUT with the version guard ((ts_ms, origin, seq) greatest
      wins; deletes leave tombstones) gives the live state in EXPECTED
      (rdapgen --expected).
  check.py dead DEAD_LETTERS COUNT [STAGE]
      DEAD_LETTERS holds COUNT lines, each with an error, a reason header and
      (if given) that stage.
"""
import json
import sys


def envelopes(path):
    with open(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                sys.exit(f"{path}:{n}: torn last line")
            try:
                yield json.loads(raw)
            except ValueError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")


def line_ends(path):
    ends, offset = set(), 0
    with open(path, "rb") as f:
        for raw in f:
            offset += len(raw)
            if raw.strip():
                ends.add(offset)
    return ends


def once(inp, out):
    want = line_ends(inp)
    seen = {}
    for e in envelopes(out):
        off = e["position"]["offset"]
        seen[off] = seen.get(off, 0) + 1
    twice = [o for o, c in seen.items() if c > 1]
    missing = want - seen.keys()
    extra = seen.keys() - want
    if twice or missing or extra:
        sys.exit(f"{len(twice)} record(s) twice, {len(missing)} missing, {len(extra)} unknown "
                 f"(e.g. {sorted(twice)[:3]} {sorted(missing)[:3]} {sorted(extra)[:3]})")
    print(f"exactly once: {len(want)} records")


def version(v):
    return (v["ts_ms"], (v.get("origin") or "").encode(), v["seq"])


def canon(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def state(out, expected):
    best = {}
    for e in envelopes(out):
        v = version(e["version"])
        cur = best.get(e["key"])
        if cur is None or v > cur[0]:
            best[e["key"]] = (v, e["op"], e.get("value"))
    live = {k: (v, canon(val)) for k, (v, op, val) in best.items() if op == "upsert"}
    want = {}
    for e in envelopes(expected):
        want[e["key"]] = ((e["ts_ms"], (e.get("origin") or "").encode(), e["seq"]), canon(e["value"]))
    differ = [k for k in live.keys() | want.keys() if live.get(k) != want.get(k)]
    if differ:
        sys.exit(f"{len(differ)} key(s) differ from the expected state, e.g. {sorted(differ)[:5]}")
    print(f"state matches: {len(want)} live keys")


def dead(path, count, stage=None):
    n = 0
    for n, e in enumerate(envelopes(path), 1):
        headers = e.get("headers") or {}
        if not e.get("error") or not headers.get("rdapsync.error.reason"):
            sys.exit(f"{path}:{n}: dead letter without a reason: {str(e)[:200]}")
        if stage and headers.get("rdapsync.error.stage") != stage:
            sys.exit(f"{path}:{n}: stage {headers.get('rdapsync.error.stage')}, want {stage}")
    if n != count:
        sys.exit(f"{path}: {n} dead letters, want {count}")
    print(f"{n} dead letters, each with a reason")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "once":
        once(*args)
    elif cmd == "state":
        state(*args)
    elif cmd == "dead":
        dead(args[0], int(args[1]), args[2] if len(args) > 2 else None)
    else:
        sys.exit(__doc__)
