#!/usr/bin/env python3
"""rdapgen lines -> one RDAP file per domain for rdap-srv; prints the names.

Usage: split.py IN.jsonl OUT_DIR PREFIX. Names are lowercased (what the
source asks for) and prefixed so that every test has its own."""
import json
import os
import sys

src, out, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
seen = set()
for i, line in enumerate(open(src, encoding="utf-8")):
    d = json.loads(line)
    name = ("%s%d-%s" % (prefix, i, d["ldhName"])).lower()
    if name in seen:
        continue
    seen.add(name)
    d["ldhName"] = name
    d.pop("unicodeName", None)
    d["handle"] = "%s%d-RDAPSYNC" % (prefix.upper().replace("-", ""), i)
    with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(d, f, ensure_ascii=False)
    print(name)
