#!/usr/bin/env python3
"""garbage.py SEED GOOD OUT: interleaves the lines of GOOD (valid RDAP JSON
lines) with generated garbage that no strict JSON-lines reader may accept as
a record, and prints the 1-based line numbers of the garbage lines.

Kinds: random bytes after '{', valid lines cut short, valid JSON that is not
an object, a good line with an invalid UTF-8 byte, a NUL escape, nesting
deeper than the parser allows, an envelope with an unknown op, duplicate
keys. Blank lines (skipped by the reader, not records) are mixed in too.
"""
import json
import random
import sys


def garbage(rng, good):
    kind = rng.randrange(9)
    if kind == 0:  # random bytes, never a newline, inside an unclosed object
        return b"{" + bytes(rng.choice([b for b in range(256) if b not in (10, 13)]) for _ in range(rng.randrange(1, 300)))
    if kind == 1:  # a valid line cut short (strictly inside, so never complete)
        return good[: rng.randrange(1, len(good) - 1)]
    if kind == 2:
        return rng.choice([b"42", b'"just a string"', b"[1,2,3]", b"null", b"true", b"-0.5e3", b"[]"])
    if kind == 3:  # invalid UTF-8 inside a string
        i = good.index(b'"ldhName":"') + 11 if b'"ldhName":"' in good else 2
        return good[:i] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]) + good[i:]
    if kind == 4:
        return b'{"handle":"nul\\u0000inside","objectClassName":"domain"}'
    if kind == 5:
        depth = rng.randrange(600, 3000)
        return b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    if kind == 6:
        return b'{"key":"k%d","op":"merge","value":{}}' % rng.randrange(1000)
    if kind == 7:
        return b'{"handle":"dup","handle":"dup2"}'
    return b'{"unterminated": "' + b"x" * rng.randrange(0, 5000)


def main():
    seed, good_path, out_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rng = random.Random(seed)
    good = [line.rstrip(b"\n") for line in open(good_path, "rb")]
    lines, bad = [], []
    for g in good:
        while rng.random() < 0.35:
            if rng.random() < 0.1:
                lines.append(b"   ")
            else:
                lines.append(garbage(rng, g))
                bad.append(len(lines))
        lines.append(g)
    with open(out_path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    print(" ".join(map(str, bad)))


if __name__ == "__main__":
    main()
