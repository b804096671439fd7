#!/usr/bin/env python3
"""Helpers of icann_conformance.sh.

split OUT.jsonl DIR: the file sink's records -> one RDAP file per domain
  in DIR, named by its ldhName; prints the names. The only change to the
  record: the ldhName is lowercased (icann-rdap-srv 0.0.30 answers 404 for
  a domain stored with an upper-case ldhName, however it is asked for).
judge RES BASE KNOWN VARIANT...: reads RES/<variant>/<mode>/<name>.json
  (rdap-test -O json), prints the findings per variant and mode by check
  class and check (objects flagged, findings), then checks what we own:
  every response rdap-test saw for a redacted variant is the redacted
  object (the domain in RES/../srv-<variant>/<name>.json, as icann-rdap-srv
  serves it: rdapConformance in any order, without the members it drops),
  and no warning or error is on a redacted object that the BASE
  variant's same object does not have, unless its "class/check" is in
  KNOWN (space separated). Exit 1 when a check fails."""
import collections
import json
import os
import sys

QUIET = {"informational", "specification_note"}
# Members icann-rdap-srv 0.0.30 does not serve (its model has no place for
# them): the top-level "lang", and "lang" in a redacted entry's reason.
SERVER_DROPS = ("lang",)


def served_form(doc):
    """doc as icann-rdap-srv serves it, rdapConformance sorted."""
    doc = json.loads(json.dumps(doc))

    def walk(n):
        if isinstance(n, dict):
            if isinstance(n.get("rdapConformance"), list):
                n["rdapConformance"] = sorted(n["rdapConformance"])
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(doc)
    for k in SERVER_DROPS:
        doc.pop(k, None)
    for r in doc.get("redacted") or []:
        if isinstance(r.get("reason"), dict):
            r["reason"].pop("lang", None)
    return doc


def split(src, out):
    os.makedirs(out, exist_ok=True)
    seen = set()
    for line in open(src, encoding="utf-8"):
        doc = json.loads(line)["value"]
        if doc.get("objectClassName") != "domain" or not doc.get("ldhName"):
            continue
        name = doc["ldhName"] = doc["ldhName"].lower()
        if name in seen:
            continue
        seen.add(name)
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        print(name)


def findings(path):
    """(set of (class, check, code, structure), list of rdap bodies seen)."""
    d = json.load(open(path, encoding="utf-8"))
    http = d.get("Http") or {}
    found, bodies = set(), []
    for c in http.get("service_checks") or []:
        found.add((c["check_class"], c["check"], None, "[SERVICE]"))
    for run in http.get("test_runs") or []:
        rd = run.get("response_data") or {}
        if isinstance(rd.get("rdap"), dict):
            bodies.append(rd["rdap"])
        for s in run.get("summaries") or []:
            it = s.get("item") or {}
            found.add((it.get("check_class"), it.get("check"), s.get("code"), s.get("structure")))
    return found, bodies


def judge(res, base, known, variants):
    known = set(known.split())
    ok = True
    redactions = collections.Counter()
    for v in [base] + variants:
        for mode in sorted(os.listdir(os.path.join(res, v))):
            folder = os.path.join(res, v, mode)
            objs = collections.defaultdict(set)
            count = collections.Counter()
            names = sorted(n[:-5] for n in os.listdir(folder) if n.endswith(".json"))
            for name in names:
                found, bodies = findings(os.path.join(folder, name + ".json"))
                ours = json.load(open(os.path.join(res, "..", "srv-" + v, name + ".json"), encoding="utf-8"))
                if not bodies:
                    print("FAIL %s/%s/%s: rdap-test got no RDAP answer" % (v, mode, name))
                    ok = False
                for b in bodies:
                    if served_form(b) != served_form(ours):
                        print("FAIL %s/%s/%s: rdap-test did not test our object (%s)"
                              % (v, mode, name, b.get("errorCode") or "another body"))
                        ok = False
                if v != base:
                    redactions[v] += len(ours.get("redacted") or [])
                    if ours.get("redacted") and "redacted" not in ours.get("rdapConformance", []):
                        print("FAIL %s/%s/%s: redacted without rdapConformance 'redacted'" % (v, mode, name))
                        ok = False
                for f in found:
                    key = (f[0], f[1], f[2])
                    objs[key].add(name)
                    count[key] += 1
            print("== %s, %s (%d domains): objects flagged / findings, by class, check (code)"
                  % (v, "rdap-test -g gtld" if mode == "gtld" else "rdap-test", len(names)))
            for key in sorted(objs, key=lambda k: (k[0] in QUIET, k[0], k[1])):
                print("  %3d / %3d  %s  %s (%s)" % (len(objs[key]), count[key], key[0], key[1], key[2]))
    for v in variants:
        print("%s: %d RFC 9537 redacted entries judged" % (v, redactions[v] // 2))
        if not redactions[v]:
            print("FAIL %s: nothing was redacted" % v)
            ok = False
    # What redact introduced: warnings and errors the base object lacks.
    for v in variants:
        intro = collections.defaultdict(set)
        for mode in sorted(os.listdir(os.path.join(res, v))):
            folder = os.path.join(res, v, mode)
            for n in sorted(os.listdir(folder)):
                if not n.endswith(".json"):
                    continue
                mine, _ = findings(os.path.join(folder, n))
                theirs, _ = findings(os.path.join(res, base, mode, n))
                before = {(f[0], f[1]) for f in theirs}
                for f in mine:
                    if f[0] in QUIET or (f[0], f[1]) in before:
                        continue
                    intro["%s/%s" % (f[0], f[1])].add("%s %s %s" % (mode, n[:-5], f[3]))
        for k in sorted(intro):
            tag = "known" if k in known else "FAIL"
            print("%s %s: introduced by redact (%s) on %d object(s), e.g. %s"
                  % (tag, k, v, len(intro[k]), sorted(intro[k])[0]))
            if k not in known:
                ok = False
    return ok


def main():
    if sys.argv[1] == "split":
        split(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "judge":
        sys.exit(0 if judge(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]) else 1)
    else:
        sys.exit("usage: icann_report.py split|judge ...")


if __name__ == "__main__":
    main()
