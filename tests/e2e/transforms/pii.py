#!/usr/bin/env python3
"""Independent PII extractor and leak scanner for the transform e2e tests.

It shares no code with the redact plugin: it reads RDAP inputs with
Python's own JSON parser, collects every email address, phone and fax
number, individual's name and street line it can find in any jCard, and
then searches output files (sink output, dead letters, logs) for them.

  pii.py extract OUT.json INPUT...        write the needles found in the inputs
  pii.py scan NEEDLES.json FILE...        fail (exit 1) if any needle appears in a file
  pii.py orgs OUT.json INPUT...           organisation names (kind org/group, org property)
  pii.py present NAMES.json FILE...       fail unless every name appears in the files

Inputs are *.json files (one document) or JSON lines; lines that are not
JSON are skipped (they cannot be redacted by anyone: the source rejects them).
"""
import json
import re
import sys

MIN_LEN = 3          # shorter strings are too common to mean anything
PREFIX = 8           # index length for the fast scan
MIN_DIGITS = 7       # phone numbers shorter than this are not numbers


def documents(path):
    data = open(path, "rb").read()
    if path.endswith(".json"):
        try:
            yield json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            pass
        return
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            doc = json.loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            continue
        # Change envelopes carry the document under "value".
        if isinstance(doc, dict) and "op" in doc and "key" in doc and "value" in doc:
            doc = doc["value"]
        yield doc


def walk(node):
    """Every dict in the tree (iteratively: hostile inputs nest deeply)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            yield n
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)


def properties(entity):
    vcard = entity.get("vcardArray")
    if not (isinstance(vcard, list) and len(vcard) >= 2 and isinstance(vcard[1], list)):
        return []
    return [p for p in vcard[1] if isinstance(p, list) and len(p) >= 4 and isinstance(p[0], str)]


def kind_of(entity):
    for p in properties(entity):
        if p[0].lower() == "kind" and isinstance(p[3], str):
            return p[3].lower()
    return None


def is_individual(entity):
    """A person: kind individual, or no kind at all unless the entity is a registrar."""
    kind = kind_of(entity)
    if kind == "individual":
        return True
    if kind in ("org", "group", "location"):
        return False
    roles = entity.get("roles")
    roles = roles if isinstance(roles, list) else [roles]
    return "registrar" not in [r.lower() for r in roles if isinstance(r, str)]


def real(s):
    """Text that could identify someone (not empty, not a placeholder)."""
    return isinstance(s, str) and len(s.strip()) >= MIN_LEN and not s.strip().lower().startswith("redacted")


def strings(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def phone_number(value):
    """'tel:+1.5555550142;ext=12' -> '+1.5555550142'; text stays as written."""
    v = value.strip()
    if v.lower().startswith("tel:"):
        v = v[4:]
    return v.split(";")[0].strip()


def extract(paths):
    found = {"email": set(), "phone": set(), "fax": set(), "name": set(), "street": set()}
    for path in paths:
        for doc in documents(path):
            for entity in walk(doc):
                if "vcardArray" not in entity:
                    continue
                person = is_individual(entity)
                for p in properties(entity):
                    name, params, values = p[0].lower(), p[1], p[3:]
                    texts = [s for v in values for s in strings(v)]
                    if name == "email":
                        found["email"].update(s for s in texts if real(s))
                    elif name == "contact-uri":
                        found["email"].update(s[7:] for s in texts if s.lower().startswith("mailto:") and real(s[7:]))
                    elif name == "tel":
                        types = params.get("type", []) if isinstance(params, dict) else []
                        types = [types] if isinstance(types, str) else types
                        fax = any(isinstance(t, str) and "fax" in t.lower() for t in types)
                        numbers = [phone_number(s) for s in texts]
                        found["fax" if fax else "phone"].update(n for n in numbers if real(n))
                    elif name == "fn" and person:
                        found["name"].update(s for s in texts if real(s))
                    elif name == "adr" and values and isinstance(values[0], list):
                        parts = values[0]
                        for part in parts[1:3]:
                            found["street"].update(s for s in strings(part) if real(s))
    return {k: sorted(v) for k, v in found.items()}


def organisations(paths):
    names = set()
    for path in paths:
        for doc in documents(path):
            for entity in walk(doc):
                if "vcardArray" not in entity:
                    continue
                org_kind = kind_of(entity) in ("org", "group")
                for p in properties(entity):
                    if p[0].lower() == "fn" and org_kind:
                        names.update(s for s in strings(p[3]) if real(s))
                    elif p[0].lower() == "org":
                        names.update(s for s in strings(p[3]) if real(s))
    return sorted(names)


def digits(s):
    return re.sub(r"[^0-9]", "", s)


def json_strings(node, out):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, str):
            out.append(n)
        elif isinstance(n, dict):
            out.extend(n.keys())
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)


# Values that are numbers of another kind: a phone's digits may occur in them by chance.
NOT_PHONES = re.compile(
    r"^(\d{1,3}(\.\d{1,3}){3}(/\d+)?"            # IPv4
    r"|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(/\d+)?"          # IPv6
    r"|\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)"  # RFC 3339
    r"|[0-9A-Fa-f]{16,})$")                        # digests, keys


def haystacks(path):
    """(text, digit text) of a file. JSON lines count by their decoded strings
    (keys and values), other lines as written; each distinct piece once, so
    the thousands of identical redaction entries cost nothing. The text is
    lower-cased; the digit text joins the digits of every piece, so a number
    written another way ("+1 555 555 0178") is still found."""
    raw = open(path, "rb").read().decode("utf-8", errors="replace")
    pieces = set()
    for line in raw.split("\n"):
        try:
            doc = json.loads(line)
        except (ValueError, RecursionError):
            pieces.add(line)
            pieces.update(re.split(r"[\s\"'=,]+", line))
            continue
        found = []
        json_strings(doc, found)
        pieces.update(found)
    digit_text = "|".join(d for d in (digits(p) for p in pieces if not NOT_PHONES.match(p)) if d)
    return "\x00".join(pieces).lower(), digit_text


def find_all(needles, text, prefix):
    """The needles that occur in text: an index on each needle's first
    `prefix` characters, one pass over the text; short needles directly."""
    hits = set()
    index = {}
    for n in needles:
        if len(n) >= prefix:
            index.setdefault(n[:prefix], []).append(n)
        elif n in text:
            hits.add(n)
    if index:
        get = index.get
        for i in range(len(text) - prefix + 1):
            bucket = get(text[i:i + prefix])
            if bucket:
                for n in bucket:
                    if text.startswith(n, i):
                        hits.add(n)
    return hits


def scan(needles_path, files):
    needles = json.load(open(needles_path))
    text_needles = {}
    digit_needles = {}
    for category, values in needles.items():
        for v in values:
            text_needles.setdefault(v.lower(), (category, v))
            if category in ("phone", "fax") and len(digits(v)) >= MIN_DIGITS:
                digit_needles.setdefault(digits(v), (category, v))
    leaks = []
    for f in files:
        text, digit_text = haystacks(f)
        for n in find_all(text_needles, text, PREFIX):
            leaks.append((f,) + text_needles[n])
        for n in find_all(digit_needles, digit_text, MIN_DIGITS):
            leaks.append((f,) + digit_needles[n])
    counts = ", ".join("%d %s" % (len(v), k) for k, v in needles.items())
    if leaks:
        for f, category, v in sorted(set(leaks))[:40]:
            print("LEAK %s: %s %r" % (f, category, v))
        print("FAIL: %d leaks of %s" % (len(set(leaks)), counts))
        return 1
    print("ok: none of %s found in %d files" % (counts, len(files)))
    return 0


def present(names_path, files):
    names = json.load(open(names_path))
    text = "\n".join(open(f, "rb").read().decode("utf-8", errors="replace") for f in files)
    # JSON output escapes some characters; compare against the decoded strings too.
    decoded = []
    for line in text.split("\n"):
        try:
            json_strings(json.loads(line), decoded)
        except (ValueError, RecursionError):
            pass
    hay = text + "\n" + "\n".join(decoded)
    missing = [n for n in names if n not in hay]
    if missing:
        print("FAIL: %d of %d organisation names missing, e.g. %r" % (len(missing), len(names), missing[:10]))
        return 1
    print("ok: all %d organisation names kept" % len(names))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] in ("extract", "orgs"):
        result = extract(argv[3:]) if argv[1] == "extract" else organisations(argv[3:])
        json.dump(result, open(argv[2], "w"), ensure_ascii=False, indent=0)
        sizes = {k: len(v) for k, v in result.items()} if isinstance(result, dict) else len(result)
        print("extracted %s from %d inputs" % (sizes, len(argv) - 3))
        return 0
    if len(argv) >= 3 and argv[1] == "scan":
        return scan(argv[2], argv[3:])
    if len(argv) >= 3 and argv[1] == "present":
        return present(argv[2], argv[3:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
