#!/usr/bin/env python3
"""Reads rdapsync's operations endpoint for the fault tests.

  probe.py get PORT PATH             body on stdout; exit 0 for 200, 22 otherwise
  probe.py code PORT PATH            the HTTP status code
  probe.py task PORT PIPELINE TASK FIELD[.SUB]   a field of one task in /status
  probe.py metric PORT 'name{labels}'            the sample's value (exit 1 if absent)
"""
import json
import sys
import urllib.error
import urllib.request


def fetch(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    cmd, port = sys.argv[1], sys.argv[2]
    if cmd == "get":
        code, body = fetch(port, sys.argv[3])
        sys.stdout.write(body)
        return 0 if code == 200 else 22
    if cmd == "code":
        print(fetch(port, sys.argv[3])[0])
        return 0
    if cmd == "task":
        pipeline, task, field = sys.argv[3], int(sys.argv[4]), sys.argv[5]
        status = json.loads(fetch(port, "/status")[1])
        for p in status["pipelines"]:
            if p["name"] == pipeline:
                for t in p["tasks"]:
                    if t["task"] == task:
                        value = t
                        for part in field.split("."):
                            value = value[part] if isinstance(value, dict) else None
                        print(json.dumps(value) if not isinstance(value, str) else value)
                        return 0
        print(f"no task {pipeline}/{task} in /status", file=sys.stderr)
        return 1
    if cmd == "metric":
        want = sys.argv[3]
        for line in fetch(port, "/metrics")[1].splitlines():
            if line.startswith(want + " "):
                print(line[len(want) + 1:])
                return 0
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
