#!/usr/bin/env python3
"""Stand-in RDAP domain generator for the e2e tests when tools/rdapgen is
not built: one RDAP domain object per line, deterministic for a seed."""
import argparse
import json
import random

p = argparse.ArgumentParser()
p.add_argument("--count", type=int, required=True)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--size", type=int, default=1024)
p.add_argument("-o", "--output", required=True)
a = p.parse_args()
rnd = random.Random(a.seed)
words = ["alpha", "bravo", "delta", "echo", "gamma", "kilo", "lima", "nova", "oscar", "sierra", "tango", "zulu"]

with open(a.output, "w", encoding="utf-8") as out:
    for i in range(a.count):
        name = "%s-%d.example" % (rnd.choice(words), i)
        day = 1 + rnd.randrange(28)
        doc = {
            "objectClassName": "domain",
            "handle": "D%08d-EXAMPLE" % i,
            "ldhName": name,
            "status": ["active"],
            "events": [
                {"eventAction": "registration", "eventDate": "2015-01-%02dT00:00:00Z" % day},
                {"eventAction": "last changed", "eventDate": "2024-02-%02dT10:%02d:00Z" % (day, i % 60)},
            ],
            "nameservers": [{"objectClassName": "nameserver", "ldhName": "ns%d.%s" % (n, name)} for n in (1, 2)],
            "entities": [{
                "objectClassName": "entity", "handle": "R%d" % i, "roles": ["registrant"],
                "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Holder \u00e9 %d" % i],
                                         ["email", {}, "text", "holder%d@%s" % (i, name)]]],
            }],
            "remarks": [],
        }
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        while len(line.encode()) < a.size:
            doc["remarks"].append({"description": [" ".join(rnd.choice(words) for _ in range(12))]})
            line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        out.write(line + "\n")
